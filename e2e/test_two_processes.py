"""Two backend processes sharing PostgreSQL, Redis and Cassandra act as one product.

Alice talks to process A, Bob to process B, each over the public WebSocket API: messages,
ticks and typing cross between them through Redis. Then A is killed and started again while
Bob keeps his socket on B: nothing sent is lost, nothing is duplicated.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from e2e.api_helpers import (
    API,
    Account,
    Frame,
    history,
    open_chat,
    register,
    send_frame,
    socket,
    text,
    wait_for,
)
from e2e.server import Backend


@pytest.fixture(scope="module")
def backends(
    scale_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Backend, Backend]]:
    root = tmp_path_factory.mktemp("two-processes")
    a = Backend("A", scale_env, root / "a", root / "a.log")
    b = Backend("B", scale_env, root / "b", root / "b.log")
    try:
        a.start()
        b.start()
        yield a, b
    finally:
        a.stop()
        b.stop()


def message(chat_id: str, body: str, temp_id: str) -> Frame:
    return {"type": "message", "chatId": chat_id, "tempId": temp_id, "content": text(body)}


def test_people_on_two_processes_chat_live_and_a_crash_loses_and_duplicates_nothing(
    backends: tuple[Backend, Backend],
) -> None:
    a, b = backends
    with (
        httpx.Client(base_url=a.url, timeout=30) as on_a,
        httpx.Client(base_url=b.url, timeout=30) as on_b,
    ):
        alice: Account = register(on_a, "alice", "Alice")
        bob: Account = register(on_b, "bob", "Bob")  # one database: B knows Alice at once
        chat_id = open_chat(on_a, alice, bob)

        with socket(b.url, bob.token) as bob_ws:
            with socket(a.url, alice.token) as alice_ws:
                # A message from A reaches B live; B's socket reports delivery, A hears it.
                send_frame(alice_ws, message(chat_id, "hello from A", "a-1"))
                first = wait_for(alice_ws, "message_ack")["messageId"]
                pushed = wait_for(bob_ws, "message", lambda f: f["messageId"] == first)
                assert pushed["content"] == text("hello from A")
                wait_for(alice_ws, "delivered", lambda f: f["messageId"] == first)

                # Bob reads on B: Alice's ticks turn blue on A.
                send_frame(bob_ws, {"type": "read", "chatId": chat_id, "messageId": first})
                wait_for(alice_ws, "read", lambda f: f["chatReadUpto"] == first)

                # Typing crosses too, and a reply from B reaches A.
                send_frame(bob_ws, {"type": "typing", "chatId": chat_id, "isTyping": True})
                typing = wait_for(alice_ws, "typing")
                assert (typing["userId"], typing["isTyping"]) == (bob.id, True)
                send_frame(bob_ws, message(chat_id, "hi from B", "b-1"))
                reply = wait_for(bob_ws, "message_ack")["messageId"]
                wait_for(alice_ws, "message", lambda f: f["messageId"] == reply)

                # Alice sends once more, then process A dies before she hears the ack.
                send_frame(alice_ws, message(chat_id, "just before the crash", "a-2"))
                wait_for(bob_ws, "message", lambda f: f["content"]["text"].endswith("crash"))
                a.kill()

            # Bob keeps his socket on B throughout. A comes back; Alice reconnects and, not
            # knowing whether "a-2" was stored, sends it again with the same temp id.
            a.start()
            with socket(a.url, alice.token) as alice_ws:
                send_frame(alice_ws, message(chat_id, "just before the crash", "a-2"))
                resent = wait_for(alice_ws, "message_ack")
                send_frame(alice_ws, message(chat_id, "after the restart", "a-3"))
                after = wait_for(alice_ws, "message_ack")["messageId"]
                got = wait_for(bob_ws, "message", lambda f: f["messageId"] == after)
                assert got["content"] == text("after the restart")

        texts = ["hello from A", "hi from B", "just before the crash", "after the restart"]
        for client, person in ((on_a, alice), (on_b, bob)):
            stored = history(client, person, chat_id)
            assert [m["content"]["text"] for m in stored] == texts  # nothing lost or doubled
            assert len({m["messageId"] for m in stored}) == 4
        assert stored[2]["messageId"] == resent["messageId"]
        summary = on_b.get(f"{API}/chats/{chat_id}", headers=bob.headers).json()
        assert summary["unreadCount"] == 2  # read up to the first; two of Alice's since
