// Service worker: makes the app installable and keeps its static shell for fast starts.
// Messages are never cached here: they live on the server and arrive over the socket.
const SHELL = "messenger-shell-v1";

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(SHELL).then((c) => c.addAll(["/manifest.json", "/icon-192.png"])));
  self.skipWaiting();
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys().then((keys) => Promise.all(keys.filter((k) => k !== SHELL).map((k) => caches.delete(k))))
  );
  self.clients.claim();
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== location.origin) return;
  // Hashed build assets never change: cache first. Everything else goes to the network.
  if (url.pathname.startsWith("/assets/") || url.pathname.endsWith(".png")) {
    event.respondWith(
      caches.match(event.request).then(
        (hit) =>
          hit ||
          fetch(event.request).then((response) => {
            const copy = response.clone();
            caches.open(SHELL).then((c) => c.put(event.request, copy));
            return response;
          })
      )
    );
  }
});
