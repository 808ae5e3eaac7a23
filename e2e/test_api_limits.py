"""The API's transport limits against the running app: REST bodies are capped (uploads have
caps of their own), and a socket's non-send frames are paced."""

from __future__ import annotations

import time
from collections.abc import Iterator

from e2e.api_helpers import (
    API,
    assert_error,
    history,
    open_chat,
    recv_frame,
    register,
    send_frame,
    socket,
    text,
    wait_for,
)

MAX_REQUEST_BYTES = 1024 * 1024  # Settings.max_request_bytes
FRAME_BURST = 120  # Settings.socket_frame_burst


def test_request_bodies_over_the_cap_are_413_and_store_nothing(client):
    alice, bob = register(client, "alice"), register(client, "bob")
    chat_id = open_chat(client, alice, bob)
    url = f"{API}/chats/{chat_id}/messages"
    padding = " " * MAX_REQUEST_BYTES  # JSON whitespace: a valid body, only too long
    body = ('{"tempId": "big", "content": {"type": "text", "text": "hi"}}' + padding).encode()
    headers = {**alice.headers, "content-type": "application/json"}

    declared = client.post(url, content=body, headers=headers)
    assert_error(declared, 413, "too_large")

    def chunks() -> Iterator[bytes]:  # no Content-Length: the server counts as it reads
        for start in range(0, len(body), 64 * 1024):
            yield body[start : start + 64 * 1024]

    streamed = client.post(url, content=chunks(), headers=headers)
    assert_error(streamed, 413, "too_large")
    assert history(client, alice, chat_id) == []

    # Just under the cap is read and judged on its content as usual.
    fits = body[: MAX_REQUEST_BYTES - 10]
    assert client.post(url, content=fits, headers=headers).status_code == 201
    assert len(history(client, bob, chat_id)) == 1


def test_non_send_frames_beyond_the_pace_are_refused_and_the_socket_lives(client, base_url):
    alice, bob = register(client, "alice"), register(client, "bob")
    chat_id = open_chat(client, alice, bob)
    with socket(base_url, alice.token) as ws:
        for _ in range(FRAME_BURST + 20):
            send_frame(ws, {"type": "ping"})
        answers = [recv_frame(ws) for _ in range(FRAME_BURST + 20)]
        kinds = [a["type"] for a in answers]
        refused = [a for a in answers if a["type"] == "error"]
        assert kinds.count("pong") >= FRAME_BURST - 2  # the socket's own first ping counted
        assert refused and all(a["code"] == "rate_limited" for a in refused)

        # Sends are not paced here (the messaging service limits them per user and IP).
        send_frame(
            ws, {"type": "message", "tempId": "t1", "chatId": chat_id, "content": text("still")}
        )
        assert wait_for(ws, "message_ack")["tempId"] == "t1"
        # The pace refills: a moment later pings are answered again.
        time.sleep(1)
        send_frame(ws, {"type": "ping"})
        assert wait_for(ws, "pong")["type"] == "pong"
