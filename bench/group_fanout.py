"""Group fan-out: one sender, a group of 256 members all connected, time until the *last* member
has each message.

Most members are lightweight WebSocket API clients (256 browsers don't fit on 2 cores); a few are
real Chromium tabs with the group open, each noting when the text appears in its DOM. All clocks
are this machine's wall clock, so one timeline covers the sender, the sockets and the browsers.
Production build, one worker.

    python bench/group_fanout.py --members 256 --browsers 3 --messages 50
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
import websockets
from playwright.async_api import async_playwright

from bench.ws_throughput import percentile, register
from e2e.server import CHROMIUM, CHROMIUM_ARGS, TEST_ENV, running_app

PASSWORD = "correct horse battery"

# A browser member notes when each message text first appears, as epoch milliseconds.
ARRIVAL_RECORDER = """
window.__arrivals = {};
new MutationObserver(() => {
  const now = performance.timeOrigin + performance.now();
  for (const el of document.querySelectorAll('[data-testid=message] .message-text')) {
    if (!(el.textContent in window.__arrivals)) window.__arrivals[el.textContent] = now;
  }
}).observe(document, {subtree: true, childList: true, characterData: true});
"""


def now_ms() -> float:
    return time.time() * 1000


async def setup(base: str, members: int) -> tuple[list[tuple[str, str, str]], str]:
    """Register the members ((token, id, username) each) and let the first create the group."""
    async with httpx.AsyncClient(base_url=base, timeout=120) as client:
        semaphore = asyncio.Semaphore(16)
        tag = uuid.uuid4().hex[:6]

        async def one(i: int) -> tuple[str, str, str]:
            async with semaphore:
                name = f"g{tag}m{i}"
                token, user_id = await register(client, name)
                return token, user_id, name

        people = await asyncio.gather(*(one(i) for i in range(members)))
        response = await client.post(
            "/api/v1/chats",
            json={"groupName": "Fan-out", "participantIds": [p[1] for p in people[1:]]},
            headers={"Authorization": f"Bearer {people[0][0]}"},
        )
        response.raise_for_status()
        return people, response.json()["chatId"]


async def settle(sender: websockets.ClientConnection, index: int, deadline: float) -> None:
    """Read the sender's frames until the group's delivered watermark covers message ``index``."""
    acked = ""
    while time.monotonic() < deadline:
        try:
            raw = await asyncio.wait_for(sender.recv(), timeout=deadline - time.monotonic())
        except TimeoutError:
            break
        frame = json.loads(raw)
        if frame.get("type") == "message_ack" and frame.get("tempId") == f"t{index}":
            acked = frame["messageId"]
        elif frame.get("type") == "delivered" and acked and frame.get("messageId", "") >= acked:
            return
    raise SystemExit(f"message {index}: receipts did not settle")


def progress(text: str, started: float = time.monotonic()) -> None:
    print(f"[{time.monotonic() - started:6.1f}s] {text}", file=sys.stderr, flush=True)


async def run(base: str, members: int, browsers: int, messages: int) -> dict[str, list[float]]:
    people, chat_id = await setup(base, members)
    progress(f"{members} members registered, group created")
    ws_base = base.replace("http", "ws", 1)
    arrivals: dict[str, dict[str, float]] = {}  # text -> member -> epoch ms
    ready = 0

    async def member_socket(token: str, name: str) -> None:
        nonlocal ready
        async with websockets.connect(f"{ws_base}/ws?token={token}", max_queue=None) as ws:
            ready += 1
            async for raw in ws:
                frame = json.loads(raw)
                if frame.get("type") == "message":
                    text = frame["content"].get("text", "")
                    arrivals.setdefault(text, {}).setdefault(name, now_ms())

    socket_members = people[1 + browsers :]
    tasks = [asyncio.create_task(member_socket(t, n)) for t, _, n in socket_members]

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        pages = []
        for token, _, name in people[1 : 1 + browsers]:
            context = await browser.new_context(base_url=base)
            await context.add_cookies([{"name": "chat_session", "value": token, "url": base}])
            await context.add_init_script(ARRIVAL_RECORDER)
            page = await context.new_page()
            await page.goto(f"/chats/{chat_id}")
            await page.get_by_test_id("message-input").wait_for()
            await page.locator("[data-hydrated=true]").wait_for()
            pages.append((name, page))
            progress(f"browser member {name} has the group open")
        while ready < len(socket_members):
            await asyncio.sleep(0.05)
        progress(f"{ready} socket members connected")
        await asyncio.sleep(1)

        last, every, last_browser, last_socket = [], [], [], []
        async with websockets.connect(f"{ws_base}/ws?token={people[0][0]}") as sender:
            for i in range(messages):
                text = f"fan-out {i} {uuid.uuid4().hex[:8]}"
                t0 = now_ms()
                await sender.send(
                    json.dumps(
                        {
                            "type": "message",
                            "chatId": chat_id,
                            "tempId": f"t{i}",
                            "content": {"type": "text", "text": text},
                        }
                    )
                )
                deadline = time.monotonic() + 10
                for name, page in pages:
                    await page.wait_for_function(
                        "t => t in window.__arrivals", arg=text, polling="raf"
                    )
                    at = await page.evaluate("t => window.__arrivals[t]", text)
                    arrivals.setdefault(text, {})[name] = at
                while len(arrivals.get(text, {})) < members - 1 and time.monotonic() < deadline:
                    await asyncio.sleep(0.005)
                got = arrivals.get(text, {})
                if len(got) < members - 1:
                    raise SystemExit(
                        f"message {i}: only {len(got)} of {members - 1} members got it"
                    )
                latencies = [at - t0 for at in got.values()]
                browser_names = {name for name, _ in pages}
                last_browser.append(max(got[n] - t0 for n in browser_names))
                last_socket.append(max(at - t0 for n, at in got.items() if n not in browser_names))
                progress(f"message {i}: last member after {max(latencies):.0f} ms")
                last.append(max(latencies))
                every.extend(latencies)
                # Each message starts from quiet: wait until every member's delivery receipt
                # is written (the sender hears the group's "delivered" move past it).
                await settle(sender, i, deadline=time.monotonic() + 30)
        await browser.close()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return {"last": last, "every": every, "browsers": last_browser, "sockets": last_socket}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=256)
    parser.add_argument("--browsers", type=int, default=3)
    parser.add_argument("--messages", type=int, default=50)
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="bench-fanout-"))
    for key, value in TEST_ENV.items():
        os.environ.setdefault(key, value)
    with running_app(data_dir, data_dir / "app.log") as base:
        result = asyncio.run(run(base, args.members, args.browsers, args.messages))
    last, every = result["last"], result["every"]
    print(
        f"\nGroup of {args.members}: 1 sender, {args.members - 1 - args.browsers} WebSocket "
        f"clients + {args.browsers} Chromium tabs; {args.messages} messages, one worker"
    )
    print(
        f"until the LAST member has it: p50={percentile(last, 50):6.1f} ms  "
        f"p99={percentile(last, 99):6.1f} ms  max={max(last):6.1f} ms"
    )
    for kind in ("sockets", "browsers"):
        values = result[kind]
        print(
            f"  last of the {kind:<8}         p50={percentile(values, 50):6.1f} ms  "
            f"p99={percentile(values, 99):6.1f} ms"
        )
    print(
        f"every delivery:               p50={percentile(every, 50):6.1f} ms  "
        f"p99={percentile(every, 99):6.1f} ms  (n={len(every)})"
    )


if __name__ == "__main__":
    main()
