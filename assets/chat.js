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

  // Keeping up with the newest message. A reader at the end of the list (within two rows of
  // it) stays there when the content changes - a new message, a trimmed window, a photo that
  // loaded: Virtuoso's own following (followOutput) loses the end once the window trims rows
  // from its top or a row is taller than estimated, and then stops following. Whether the
  // reader is at the end is judged on every scroll (near the end, or moving up away from it),
  // and once a frame a change of height finds them there or not. Sending always goes to the
  // end (as on WhatsApp), for a moment while the new row appears and is measured; a hand on
  // the wheel, the screen, the scrollbar or a key that scrolls up ends that at once.
  const NEAR_END = 128; // px: two rows
  let stickUntil = 0;
  let atEnd = true;
  let shown = null; // the list element last seen (a chat opened anew starts at its end)
  let seenHeight = 0;
  let seenTop = 0;
  document.addEventListener(
    "scroll",
    (event) => {
      const list = event.target;
      if (!(list instanceof Element) || list.id !== "message-list") return;
      if (list !== shown) return;
      const below = list.scrollHeight - list.scrollTop - list.clientHeight;
      if (below < NEAR_END) atEnd = true;
      else if (list.scrollTop < seenTop) atEnd = false; // moved up, away from the end
      // (moved down, not to the end: the list keeping its rows in place as rows above it
      // are added or measured, or a reader on their way down - neither changes where they are)
      seenTop = list.scrollTop;
    },
    true, // scroll events do not bubble
  );
  const follow = () => {
    const list = document.getElementById("message-list");
    if (list !== shown) {
      shown = list;
      atEnd = true;
      seenHeight = list ? list.scrollHeight : 0;
      seenTop = list ? list.scrollTop : 0;
    } else if (list) {
      const height = list.scrollHeight;
      const behind = height - list.scrollTop - list.clientHeight > 1;
      if (behind && ((height !== seenHeight && atEnd) || Date.now() < stickUntil)) {
        list.scrollTop = height;
        atEnd = true;
      }
      seenHeight = height;
      seenTop = list.scrollTop;
    }
    requestAnimationFrame(follow);
  };
  requestAnimationFrame(follow);
  window.chatStickToBottom = () => {
    stickUntil = Date.now() + 1500;
  };
  document.addEventListener(
    "submit",
    (event) => {
      const form = event.target;
      if (form instanceof HTMLFormElement && form.querySelector("[data-testid=message-input]")) {
        window.chatStickToBottom();
      }
    },
    true,
  );
  const letGo = () => { stickUntil = 0; };
  for (const type of ["wheel", "touchmove"]) {
    document.addEventListener(type, letGo, { passive: true, capture: true });
  }
  // The scrollbar (a press on the list itself) and the keys that scroll up count too.
  document.addEventListener("pointerdown", (event) => {
    if (event.target instanceof Element && event.target.id === "message-list") letGo();
  }, true);
  document.addEventListener("keydown", (event) => {
    if (["PageUp", "Home"].includes(event.key)) letGo();
  }, true);

  let hiddenButton = null;
  const observer = new MutationObserver(() => {
    // A page that loads in a background tab says so as soon as it can.
    const button = document.getElementById("page-hidden");
    if (button && button !== hiddenButton) {
      hiddenButton = button;
      if (document.visibilityState === "hidden") button.click();
    }
    watchMenu();
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
  // --- The message menu (issue #7) ----------------------------------------------------------
  // One menu serves the whole pane (chat_web/components/message_actions.py). It opens beside
  // the bubble it was asked for on (at the pointer for a right-click or a long press), and
  // when it closes focus goes back to that message: Radix gives focus back to a dialog's
  // trigger, and this dialog has none.
  let menuFor = null; // { id, rect, point } of the message the menu was last asked for on
  let menuShown = null; // the menu element while it is open
  const messageOf = (el) => (el instanceof Element ? el.closest("[data-testid=message]") : null);
  const askMenuFor = (message, point) => {
    const rect = (message.querySelector(".bubble") || message).getBoundingClientRect();
    menuFor = { id: message.dataset.messageId, mine: message.classList.contains("mine"), rect, point };
  };
  document.addEventListener(
    "click",
    (event) => {
      const button =
        event.target instanceof Element ? event.target.closest("[data-testid=message-actions]") : null;
      const message = messageOf(button);
      if (message) askMenuFor(message, null);
    },
    true,
  );
  const clamp = (value, low, high) => Math.max(low, Math.min(value, high));
  // Coordinates come from getBoundingClientRect, which is physical (left/top) whatever the
  // writing direction, so the menu is placed with physical left/top too.
  const placeMenu = (menu) => {
    if (!menuFor) return;
    const gap = 6;
    const { rect, point, mine } = menuFor;
    const width = menu.offsetWidth;
    const height = menu.offsetHeight;
    const x = point ? point.x : mine ? rect.right - width : rect.left;
    let y = point ? point.y : rect.bottom + gap;
    if (y + height > innerHeight - gap) y = (point ? point.y : rect.top - gap) - height;
    menu.style.left = `${clamp(x, gap, innerWidth - width - gap)}px`;
    menu.style.top = `${clamp(y, gap, innerHeight - height - gap)}px`;
  };
  const returnFocus = (messageId) => {
    // After the dialog's own focus handling, and only if nothing else took focus (a reply
    // focuses the composer; the edit and forward dialogs focus themselves).
    setTimeout(() => {
      const active = document.activeElement;
      if (active && active !== document.body) return;
      if (document.querySelector("[role=dialog]")) return;
      const selector = `[data-testid=message][data-message-id="${CSS.escape(messageId)}"]`;
      document.querySelector(selector)?.focus({ preventScroll: true });
    }, 0);
  };
  const menuResized = new ResizeObserver(() => menuShown && placeMenu(menuShown));
  const watchMenu = () => {
    const menu = document.querySelector(".actions-menu");
    if (menu && menu !== menuShown) {
      menuShown = menu;
      if (menuFor) {
        menu.dataset.anchored = "true"; // styles.css: fixed, no overlay shade
        placeMenu(menu);
        menuResized.observe(menu);
      }
    } else if (!menu && menuShown) {
      menuResized.disconnect();
      menuShown = null;
      if (menuFor) returnFocus(menuFor.id);
      menuFor = null; // asked for afresh each time (a menu opened otherwise stays centred)
    }
  };
  document.addEventListener(
    "contextmenu",
    (event) => {
      const message = messageOf(event.target);
      if (!message) return;
      if (hold?.opened) {
        // The long press below has opened the menu already (browsers turn a long press into
        // a contextmenu event too): don't ask twice.
        event.preventDefault();
        event.stopPropagation();
        return;
      }
      if (hold) {
        clearTimeout(hold.timer);
        hold.opened = true; // the contextmenu opens it; the end of the touch is no click
      }
      askMenuFor(message, { x: event.clientX, y: event.clientY });
    },
    true,
  );

  // Long press (touch): holding a bubble still for half a second opens its menu, as on a phone.
  // A moving finger is scrolling; the touch's end is not a click on what just opened.
  const HOLD_MS = 500;
  const SLOP_PX = 10;
  let hold = null;
  const endHold = () => {
    if (hold) clearTimeout(hold.timer);
    hold = null;
  };
  document.addEventListener(
    "touchstart",
    (event) => {
      endHold();
      const message = messageOf(event.target);
      if (!message || event.touches.length !== 1) return;
      // Links, players and the menu button keep their own touch behaviour.
      if (event.target.closest("a, audio, video, [data-testid=message-actions]")) return;
      const { clientX: x, clientY: y } = event.touches[0];
      const opener = message.querySelector("[data-testid=message-actions]");
      if (!opener) return; // pending and failed messages have no menu
      const started = { x, y, opened: false };
      started.timer = setTimeout(() => {
        started.opened = true;
        opener.click();
        askMenuFor(message, { x, y });
      }, HOLD_MS);
      hold = started;
    },
    { passive: true },
  );
  document.addEventListener(
    "touchmove",
    (event) => {
      if (!hold || hold.opened) return;
      const touch = event.touches[0];
      if (Math.hypot(touch.clientX - hold.x, touch.clientY - hold.y) > SLOP_PX) endHold();
    },
    { passive: true },
  );
  document.addEventListener("touchend", (event) => {
    if (hold?.opened && event.cancelable) event.preventDefault(); // no click, no selection
    endHold();
  });
  document.addEventListener("touchcancel", endHold);

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
