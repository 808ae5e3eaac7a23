// Browser-side behaviour Reflex has no words for: Enter-to-send, visibility (read receipts),
// presence heartbeats and the PWA service worker. (The message list's scrolling is
// react-virtuoso's: chat_web/components/virtual_list.py.)
(() => {
  "use strict";

  // Enter sends, Shift+Enter is a new line (and IME composition is never interrupted).
  document.addEventListener("keydown", (event) => {
    const input = event.target;
    if (!(input instanceof HTMLTextAreaElement) || input.dataset.testid !== "message-input") return;
    if (event.key !== "Enter" || event.shiftKey || event.isComposing) return;
    event.preventDefault();
    if (input.value.trim() === "") return;
    input.form?.requestSubmit();
  });

  let hiddenButton = null;
  const observer = new MutationObserver(() => {
    // A page that loads in a background tab says so as soon as it can.
    const button = document.getElementById("page-hidden");
    if (button && button !== hiddenButton) {
      hiddenButton = button;
      if (document.visibilityState === "hidden") button.click();
    }
  });
  const start = () => observer.observe(document.body, { childList: true, subtree: true });
  if (document.body) start();
  else document.addEventListener("DOMContentLoaded", start);

  // An open chat counts as read only while the tab is in front of the user: tell the server.
  document.addEventListener("visibilitychange", () => {
    const id = document.visibilityState === "visible" ? "page-shown" : "page-hidden";
    document.getElementById(id)?.click();
  });

  // Presence: say "still here" while the page is open. A closed laptop stops saying it, and
  // the server lets the user go offline when the heartbeats lapse.
  const beat = () => {
    const button = document.getElementById("presence-beat");
    button?.click();
    const every = Number(button?.dataset.intervalMs) || 10000;
    setTimeout(beat, Math.max(every, 1000));
  };
  setTimeout(beat, 1000);

  if ("serviceWorker" in navigator && location.protocol !== "file:") {
    window.addEventListener("load", () => navigator.serviceWorker.register("/sw.js").catch(() => {}));
  }
})();
