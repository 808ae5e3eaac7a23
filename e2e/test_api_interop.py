"""A bot on the API and a person in the browser chat both ways, with receipts both ways."""

from __future__ import annotations

import json
import uuid

import httpx
from playwright.sync_api import expect
from websockets.sync.client import connect

from e2e.conftest import PASSWORD, send, start_chat_with


def next_frame(ws, kind: str, **match: str) -> dict:
    """The next frame of type ``kind`` (with the given fields), skipping others."""
    while True:
        frame = json.loads(ws.recv(timeout=10))
        if frame["type"] == kind and all(frame.get(k) == v for k, v in match.items()):
            return frame


def test_an_api_client_and_a_browser_user_chat_with_ticks(person, base_url):
    alice = person("Alice")
    username = f"bot{uuid.uuid4().hex[:10]}"
    registered = httpx.post(
        f"{base_url}/api/v1/auth/register",
        json={"username": username, "displayName": "Bot", "password": PASSWORD},
    )
    assert registered.status_code == 201
    token = registered.json()["token"]

    chat_id = start_chat_with(alice, username, "Bot")
    with connect(f"{base_url.replace('http', 'ws', 1)}/ws?token={token}") as bot:
        # Browser -> API: the bot's socket gets it live; Alice sees two ticks, then blue.
        send(alice.page, "hello bot")
        frame = next_frame(bot, "message", chatId=chat_id)
        assert frame["content"] == {"type": "text", "text": "hello bot"}
        mine = alice.page.get_by_test_id("message").filter(has_text="hello bot")
        expect(mine).to_have_attribute("data-status", "delivered")
        bot.send(json.dumps({"type": "read", "chatId": chat_id, "messageId": frame["messageId"]}))
        expect(mine).to_have_attribute("data-status", "read")

        # API -> browser: the text appears live, and the bot hears it was delivered and read.
        bot.send(
            json.dumps(
                {
                    "type": "message",
                    "tempId": "t-1",
                    "chatId": chat_id,
                    "content": {"type": "text", "text": "hi Alice, from the API"},
                }
            )
        )
        ack = next_frame(bot, "message_ack", tempId="t-1")
        expect(
            alice.page.get_by_test_id("message").filter(has_text="hi Alice, from the API")
        ).to_be_visible()
        read = next_frame(bot, "read", chatId=chat_id, chatReadUpto=ack["messageId"])
        assert read["lastReadMessageId"] == ack["messageId"]
