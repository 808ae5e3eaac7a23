"""Browser-to-browser message latency: Alice presses send, until the text is in Bob's DOM.

Runs the production build on this machine (one worker), two Chromium contexts, N messages sent
one after another; then puts 5,000 more messages into the chat and measures again, to show the
latency does not grow with the chat's length. Prints p50/p95/p99 in milliseconds.

    make bench            # or: python bench/latency.py --messages 200 --runs 3
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from playwright.sync_api import Page, sync_playwright

from backend.container import build_services
from backend.settings import Settings
from e2e.server import CHROMIUM, CHROMIUM_ARGS, TEST_ENV, running_app

PASSWORD = "correct horse battery"

# Bob's page notes when each message text first appears, on the page's own clock.
ARRIVAL_RECORDER = """
window.__arrivals = {};
new MutationObserver(() => {
  const now = performance.timeOrigin + performance.now();
  for (const el of document.querySelectorAll('[data-testid=message] .message-text')) {
    const text = el.textContent;
    if (!(text in window.__arrivals)) window.__arrivals[text] = now;
  }
}).observe(document, {subtree: true, childList: true, characterData: true});
"""

# Alice's page notes the instant it submits, then submits the composer like Enter does.
SEND = """
text => {
  const box = document.querySelector('[data-testid=message-input]');
  box.value = text;
  const t0 = performance.timeOrigin + performance.now();
  box.form.requestSubmit();
  return t0;
}
"""


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def sign_up(page: Page, username: str, name: str) -> None:
    page.goto("/signup")
    page.locator("[data-hydrated=true]").wait_for()
    page.fill("input[name=username]", username)
    page.fill("input[name=display_name]", name)
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url("**/chats")


def measure(alice: Page, bob: Page, label: str, count: int) -> list[float]:
    for page in (alice, bob):
        page.reload()
        page.get_by_test_id("message-input").wait_for()
        page.locator("[data-hydrated=true]").wait_for()
    latencies = []
    for i in range(count):
        text = f"{label} #{i} {time.monotonic_ns()}"
        t0 = alice.evaluate(SEND, text)
        bob.wait_for_function("t => t in window.__arrivals", arg=text, polling="raf")
        latencies.append(bob.evaluate("t => window.__arrivals[t]", text) - t0)
        # Let the receipts of this message settle so each send starts from quiet.
        alice.locator(
            f"[data-testid=message][data-status=read]:has-text('{label} #{i} ')"
        ).wait_for()
    return latencies


def report(label: str, latencies: list[float]) -> str:
    return (
        f"{label:<28} n={len(latencies):<4} p50={percentile(latencies, 50):6.1f} ms  "
        f"p95={percentile(latencies, 95):6.1f} ms  p99={percentile(latencies, 99):6.1f} ms  "
        f"mean={statistics.mean(latencies):6.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--history", type=int, default=5000)
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="bench-latency-"))
    log = data_dir / "app.log"
    for key, value in TEST_ENV.items():  # a benchmark sends far faster than people do
        os.environ.setdefault(key, value)
    with running_app(data_dir, log) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        alice = browser.new_context(base_url=base).new_page()
        bob_context = browser.new_context(base_url=base)
        bob_context.add_init_script(ARRIVAL_RECORDER)
        bob = bob_context.new_page()
        suffix = str(os.getpid())
        sign_up(alice, f"alice{suffix}", "Alice")
        sign_up(bob, f"bob{suffix}", "Bob")
        alice.get_by_test_id("new-chat-button").click()
        alice.get_by_test_id("new-chat-search").fill(f"bob{suffix}")
        alice.get_by_test_id(f"new-chat-result-bob{suffix}").click()
        alice.wait_for_url("**/chats/*")
        chat_id = alice.url.rstrip("/").rsplit("/", 1)[1]
        alice.get_by_test_id("message-input").wait_for()
        alice.evaluate(SEND, "hello")
        bob.goto(f"/chats/{chat_id}")

        results: dict[str, list[list[float]]] = {"empty": [], "long": []}
        for run in range(args.runs):
            results["empty"].append(measure(alice, bob, f"run{run}-short", args.messages))
        svc = build_services(Settings.from_env({**os.environ, "CHAT_DATA_DIR": str(data_dir)}))
        alice_id = next(
            u.id
            for u in svc.accounts.search_users("", f"alice{suffix}")
            if u.username == f"alice{suffix}"
        )
        for i in range(args.history):
            svc.messaging.send_message(alice_id, chat_id, {"type": "text", "text": f"old {i}"})
        for run in range(args.runs):
            results["long"].append(measure(alice, bob, f"run{run}-long", args.messages))
        browser.close()

    print(f"\nBrowser-to-browser latency, {args.messages} messages per run, one worker")
    for run in range(args.runs):
        print(report(f"run {run + 1}, chat near-empty", results["empty"][run]))
    for run in range(args.runs):
        print(report(f"run {run + 1}, +{args.history} messages", results["long"][run]))
    short = [x for r in results["empty"] for x in r]
    long = [x for r in results["long"] for x in r]
    print(report("all runs, chat near-empty", short))
    print(report(f"all runs, +{args.history} messages", long))
    print(f"p50 ratio long/empty: {percentile(long, 50) / percentile(short, 50):.2f}")


if __name__ == "__main__":
    main()
