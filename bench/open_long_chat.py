"""Opening a chat with 10,000 messages: time until its newest message is on screen, and how many
DOM nodes the message list holds (it is virtual: only rows near the viewport exist).

Runs the production build (one worker) and one Chromium context. Alice switches between a short
chat and the long one; each switch is timed from the click on the chat in her list to the
newest message being painted in the viewport, on the page's own clock.

    python bench/open_long_chat.py --messages 10000 --opens 20
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from playwright.sync_api import Page, sync_playwright

from backend.container import build_services
from backend.settings import Settings
from bench.latency import percentile, sign_up
from e2e.server import CHROMIUM, CHROMIUM_ARGS, TEST_ENV, running_app

LONG_NEWEST = [""]  # the long chat's newest text, once known

# Click the chat, then wait (on animation frames) until the newest message is in the viewport.
OPEN = """
async ([chatId, newest]) => {
  const t0 = performance.now();
  document.querySelector(`[data-testid=chat-item-${chatId}]`).click();
  for (;;) {
    await new Promise(requestAnimationFrame);
    const list = document.querySelector('[data-testid=message-list]');
    const texts = list ? list.querySelectorAll('.message-text') : [];
    for (const p of texts) {
      if (p.textContent !== newest) continue;
      const box = p.getBoundingClientRect();
      const view = list.getBoundingClientRect();
      if (box.height > 0 && box.bottom <= view.bottom + 1 && box.top >= view.top - 1) {
        return [performance.now() - t0, list.querySelectorAll('*').length, texts.length];
      }
    }
  }
}
"""


def open_chat(page: Page, chat_id: str, shows: str) -> None:
    """Open a chat and wait until its own messages are on screen (not the previous chat's)."""
    page.get_by_test_id(f"chat-item-{chat_id}").click()
    page.wait_for_url(f"**/chats/{chat_id}")
    page.locator(".message-text", has_text=shows).wait_for()
    page.wait_for_function(
        "n => ![...document.querySelectorAll('.message-text')].some(p => p.textContent === n)",
        arg=LONG_NEWEST[0],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--opens", type=int, default=20)
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="bench-open-"))
    for key, value in TEST_ENV.items():
        os.environ.setdefault(key, value)
    with running_app(data_dir, data_dir / "app.log") as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        suffix = str(os.getpid())
        pages = {}
        for name in ("alice", "bob", "carol"):
            pages[name] = browser.new_context(base_url=base).new_page()
            sign_up(pages[name], f"{name}{suffix}", name.title())
        svc = build_services(Settings.from_env({**os.environ, "CHAT_DATA_DIR": str(data_dir)}))
        ids = {
            name: next(
                u.id
                for u in svc.accounts.search_users("", f"{name}{suffix}")
                if u.username == f"{name}{suffix}"
            )
            for name in pages
        }
        long_chat = svc.chats.open_direct_chat(ids["alice"], ids["bob"]).id
        short_chat = svc.chats.open_direct_chat(ids["alice"], ids["carol"]).id
        svc.messaging.send_message(ids["carol"], short_chat, {"type": "text", "text": "hi"})
        for i in range(args.messages):
            sender = ids["alice"] if i % 3 else ids["bob"]
            svc.messaging.send_message(
                sender,
                long_chat,
                {"type": "text", "text": f"message {i:05d} " + "words " * (i % 12)},
            )
        newest = f"message {args.messages - 1:05d} " + "words " * ((args.messages - 1) % 12)
        LONG_NEWEST[0] = newest.strip()
        alice = pages["alice"]
        alice.reload()
        open_chat(alice, short_chat, "hi")

        times, nodes, rows = [], [], []
        for _ in range(args.opens):
            elapsed, node_count, row_count = alice.evaluate(OPEN, [long_chat, newest.strip()])
            times.append(elapsed)
            nodes.append(node_count)
            rows.append(row_count)
            alice.wait_for_timeout(300)  # let the read receipt and list refresh settle
            open_chat(alice, short_chat, "hi")
        browser.close()

    print(f"\nOpen a chat of {args.messages} messages ({args.opens} opens, one worker)")
    print(
        f"time to newest message painted: p50={percentile(times, 50):6.1f} ms  "
        f"p95={percentile(times, 95):6.1f} ms  max={max(times):6.1f} ms"
    )
    print(
        f"DOM nodes in the message list: max={max(nodes)}  p50={percentile(nodes, 50):.0f}; "
        f"message rows rendered: max={max(rows)} of the {args.messages}"
    )


if __name__ == "__main__":
    main()
