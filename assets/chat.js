// Browser-side behaviour Reflex has no words for: Enter-to-send, keeping the message list's
// scroll position, loading older history at the top, and the PWA service worker.
(() => {
  "use strict";
  const NEAR_BOTTOM_PX = 80;
  const NEAR_TOP_PX = 120;

  // Enter sends, Shift+Enter is a new line (and IME composition is never interrupted).
  document.addEventListener("keydown", (event) => {
    const input = event.target;
    if (!(input instanceof HTMLTextAreaElement) || input.dataset.testid !== "message-input") return;
    if (event.key !== "Enter" || event.shiftKey || event.isComposing) return;
    event.preventDefault();
    if (input.value.trim() === "") return;
    input.form?.requestSubmit();
  });

  // Per list element: were we at the bottom, and how far from the bottom were we?
  let tracked = null;
  let atBottom = true;
  let fromBottom = 0;
  let firstId = null;
  let chatKey = null;

  const firstMessageId = (list) =>
    list.querySelector("[data-testid=message]")?.getAttribute("data-message-id") ?? null;

  function remember(list) {
    fromBottom = list.scrollHeight - list.scrollTop - list.clientHeight;
    atBottom = fromBottom < NEAR_BOTTOM_PX;
  }

  function onScroll() {
    remember(tracked);
    if (tracked.scrollTop < NEAR_TOP_PX) {
      const older = tracked.querySelector("[data-testid=load-older]:not([disabled])");
      older?.click();
    }
  }

  function onChange(list) {
    const key = location.pathname;
    const first = firstMessageId(list);
    if (key !== chatKey) {
      chatKey = key; // a chat was opened: start at the newest message
      list.scrollTop = list.scrollHeight;
    } else if (first !== firstId && !atBottom) {
      // Older messages were put above: keep what the reader was looking at in place.
      list.scrollTop = list.scrollHeight - list.clientHeight - fromBottom;
    } else if (atBottom) {
      list.scrollTop = list.scrollHeight; // follow new messages only if already at the bottom
    }
    firstId = first;
    remember(list);
  }

  let hiddenButton = null;
  const observer = new MutationObserver(() => {
    // A page that loads in a background tab says so as soon as it can.
    const button = document.getElementById("page-hidden");
    if (button && button !== hiddenButton) {
      hiddenButton = button;
      if (document.visibilityState === "hidden") button.click();
    }
    const list = document.querySelector("[data-testid=message-list]");
    if (list !== tracked) {
      tracked?.removeEventListener("scroll", onScroll);
      tracked = list;
      chatKey = null;
      firstId = null;
      atBottom = true;
      list?.addEventListener("scroll", onScroll, { passive: true });
    }
    if (list) onChange(list);
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
