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
    watchLoadOnView();
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

  // Going to a message (issue #7: a reply's quote, a search result, a starred message): wait
  // for its chat to be open, then scroll the list up until the message is rendered (the list
  // loads older pages itself when its top is reached), and highlight it briefly.
  window.chatJumpTo = (chatId, messageId) => {
    const deadline = Date.now() + 20000;
    const selector = `[data-testid=message][data-message-id="${CSS.escape(messageId)}"]`;
    const step = () => {
      if (Date.now() > deadline) return;
      const list = document.getElementById("message-list");
      if (chatId && !location.pathname.endsWith(`/${chatId}`)) return setTimeout(step, 100);
      const found = document.querySelector(selector);
      if (found) {
        found.scrollIntoView({ block: "center" });
        found.classList.add("highlighted");
        found.dataset.highlighted = "true";
        setTimeout(() => {
          found.classList.remove("highlighted");
          delete found.dataset.highlighted;
        }, 2500);
        return;
      }
      // Ids sort in server order: a message newer than every rendered one is further down;
      // otherwise scroll up (older pages load when the top is reached).
      const shown = [...document.querySelectorAll("[data-testid=message]")]
        .filter((m) => m.dataset.status !== "pending" && m.dataset.status !== "failed")
        .map((m) => m.dataset.messageId);
      const down = shown.length > 0 && shown.every((id) => id < messageId);
      const by = list ? list.clientHeight * 0.8 * (down ? 1 : -1) : 0;
      if (list) list.scrollTop = Math.max(0, list.scrollTop + by);
      setTimeout(step, 150);
    };
    setTimeout(step, 300);
  };
  // "More results" buttons (search, starred) press themselves when scrolled into view.
  const loadWhenSeen = new IntersectionObserver((entries) => {
    for (const entry of entries) if (entry.isIntersecting) entry.target.click();
  });
  const watched = new WeakSet();
  const watchLoadOnView = () => {
    for (const button of document.querySelectorAll("[data-load-on-view]")) {
      if (watched.has(button)) continue;
      watched.add(button);
      loadWhenSeen.observe(button);
    }
  };

  // The keyboard map of a focused message (seed §12): Enter opens its menu, R replies, F forwards.
  document.addEventListener("keydown", (event) => {
    const message = event.target instanceof HTMLElement ? event.target : null;
    if (!message || message.dataset.testid !== "message" || event.ctrlKey || event.metaKey) return;
    const action = { Enter: "", r: "action-reply", f: "action-forward" }[event.key];
    if (action === undefined) return;
    event.preventDefault();
    message.querySelector("[data-testid=message-actions]")?.click();
    if (!action) return;
    const deadline = Date.now() + 5000;
    const choose = () => {
      const item = document.querySelector(`[data-testid=${action}]`);
      if (item) item.click();
      else if (Date.now() < deadline) setTimeout(choose, 50);
    };
    choose();
  });
  // The composer's emoji picker: Ctrl/Cmd+E opens it; a chosen emoji is typed at the caret.
  document.addEventListener("keydown", (event) => {
    if (!(event.ctrlKey || event.metaKey) || event.key.toLowerCase() !== "e") return;
    const button = document.querySelector("[data-testid=emoji-button]");
    if (!button) return;
    event.preventDefault();
    button.click();
  });
  document.addEventListener("click", (event) => {
    const option = event.target instanceof Element ? event.target.closest("[data-insert]") : null;
    const input = document.getElementById("composer");
    if (!option || !(input instanceof HTMLTextAreaElement)) return;
    input.setRangeText(option.dataset.insert, input.selectionStart, input.selectionEnd, "end");
    input.dispatchEvent(new Event("input", { bubbles: true }));
    setTimeout(() => input.focus(), 50);
  });
  document.addEventListener("click", (event) => {
    const quote = event.target instanceof Element ? event.target.closest("[data-jump]") : null;
    if (quote) window.chatJumpTo("", quote.dataset.jump);
  });

  if ("serviceWorker" in navigator && location.protocol !== "file:") {
    window.addEventListener("load", () => navigator.serviceWorker.register("/sw.js").catch(() => {}));
  }
})();
