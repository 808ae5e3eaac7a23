"""The WebSocket gateway (/ws) driven with a real WebSocket client against the running app."""

from __future__ import annotations

import contextlib
import json
import re
import uuid

import pytest
from websockets.exceptions import ConnectionClosed

from e2e.api_helpers import (
    API,
    Account,
    Frame,
    frames_within,
    history,
    login,
    not_presence,
    open_chat,
    ping,
    recv_frame,
    refusal,
    register,
    send,
    send_frame,
    socket,
    text,
    wait_for,
    ws_url,
)
from e2e.api_helpers import (
    NOT_MEMBER as NOT_MEMBER_BODY,
)

QUIET = 0.5  # how long "nothing else arrives" is watched for
NOT_MEMBER = NOT_MEMBER_BODY["message"]


@pytest.fixture
def pair(client) -> tuple[Account, Account, str]:
    """Alice and Bob, with the 1:1 chat Alice opened."""
    alice, bob = register(client, "alice", "Alice"), register(client, "bob", "Bob")
    return alice, bob, open_chat(client, alice, bob)


def message_frame(chat_id: str, body: str, temp_id: str) -> Frame:
    return {"type": "message", "chatId": chat_id, "tempId": temp_id, "content": text(body)}


def of_type(frames: list[Frame], kind: str) -> list[Frame]:
    return [f for f in frames if f.get("type") == kind]


# --- the handshake --------------------------------------------------------------------------


@pytest.mark.parametrize("token", [None, "", "garbage-token", "revoked"])
def test_a_missing_bad_or_revoked_token_is_refused(client, base_url, token):
    if token == "revoked":
        account = register(client, "revoked")
        assert client.post(f"{API}/auth/logout", headers=account.headers).status_code == 204
        token = account.token
    assert refusal(ws_url(base_url, token)) == "close 4401"


@pytest.mark.parametrize(
    "origin",
    ["http://evil.example", "https://evil.example:443", "http://localhost.evil.example", "null"],
)
def test_a_foreign_origin_is_refused_even_with_a_good_token(client, base_url, origin):
    account = register(client, "origin")
    assert refusal(ws_url(base_url, account.token), origin=origin) == "close 4403"


def test_a_foreign_port_on_the_same_host_is_another_origin(client, base_url):
    account = register(client, "port")
    host = base_url.split("://", 1)[1].split(":")[0]
    assert refusal(ws_url(base_url, account.token), origin=f"http://{host}:1") == "close 4403"


def test_the_apps_own_origin_and_no_origin_are_accepted(client, base_url):
    account = register(client, "sameorigin")
    with socket(base_url, account.token, origin=base_url) as ws:
        send_frame(ws, {"type": "ping"})
        assert recv_frame(ws) == {"type": "pong"}
    with socket(base_url, account.token) as ws:  # native clients send no Origin
        send_frame(ws, {"type": "ping"})
        assert recv_frame(ws) == {"type": "pong"}


def test_ping_gets_pong_as_text_or_binary(client, base_url):
    account = register(client, "pinger")
    with socket(base_url, account.token) as ws:
        for _ in range(3):
            send_frame(ws, {"type": "ping"})
            assert recv_frame(ws) == {"type": "pong"}
        ws.send(b'{"type": "ping"}')
        assert recv_frame(ws) == {"type": "pong"}


# --- messages and receipts ------------------------------------------------------------------


def test_a_message_is_acked_pushed_to_the_recipient_then_delivered(client, base_url, pair):
    alice, bob, chat_id = pair
    with socket(base_url, alice.token) as wa, socket(base_url, bob.token) as wb:
        send_frame(wa, message_frame(chat_id, "Hello over the socket", "tmp-1"))

        ack = wait_for(wa, "message_ack")
        assert ack["tempId"] == "tmp-1"
        assert ack["status"] == "sent"
        assert ack["chatId"] == chat_id
        message_id = ack["messageId"]

        pushed = wait_for(wb, "message")
        assert pushed["messageId"] == message_id
        assert pushed["chatId"] == chat_id
        assert pushed["senderId"] == alice.id
        assert pushed["content"] == text("Hello over the socket")
        assert pushed["timestamp"] == ack["timestamp"]
        assert "tempId" not in pushed  # the sender's client id is not the recipient's business

        seen: list[Frame] = []
        delivered = wait_for(wa, "delivered", lambda f: f["messageId"] == message_id, skipped=seen)
        assert delivered["chatId"] == chat_id
        assert delivered["userId"] == bob.id
        # The sending socket already has the ack: no echo of its own message.
        assert of_type(seen + frames_within(wa, QUIET), "message") == []

    [stored] = history(client, alice, chat_id)
    assert stored["messageId"] == message_id
    assert stored["status"] == "delivered"


def test_a_read_frame_turns_the_senders_ticks_blue(client, base_url, pair):
    alice, bob, chat_id = pair
    with socket(base_url, alice.token) as wa, socket(base_url, bob.token) as wb:
        send_frame(wa, message_frame(chat_id, "read me", "tmp-read"))
        message_id = wait_for(wa, "message_ack")["messageId"]
        wait_for(wb, "message")
        wait_for(wa, "delivered", lambda f: f["messageId"] == message_id)
        unread = client.get(f"{API}/chats/{chat_id}", headers=bob.headers).json()["unreadCount"]
        assert unread == 1

        send_frame(wb, {"type": "read", "chatId": chat_id, "messageId": message_id})
        read = wait_for(wa, "read", lambda f: f["lastReadMessageId"] == message_id)
        assert read["chatId"] == chat_id
        assert read["userId"] == bob.id
        assert read["chatReadUpto"] == message_id

    assert history(client, alice, chat_id)[0]["status"] == "read"
    assert client.get(f"{API}/chats/{chat_id}", headers=bob.headers).json()["unreadCount"] == 0


def test_resending_the_same_temp_id_acks_the_same_message_and_stores_one(client, base_url, pair):
    alice, bob, chat_id = pair
    with socket(base_url, alice.token) as wa, socket(base_url, bob.token) as wb:
        send_frame(wa, message_frame(chat_id, "once only", "same-temp"))
        first = wait_for(wa, "message_ack")
        send_frame(wa, message_frame(chat_id, "once only", "same-temp"))
        second = wait_for(wa, "message_ack")
        assert second["messageId"] == first["messageId"]
        assert second["tempId"] == "same-temp"
        ping(wa)

        received = of_type(ping(wb) + frames_within(wb, QUIET), "message")
        # Delivery is at least once; whatever was pushed is the one stored message.
        assert received
        assert {f["messageId"] for f in received} == {first["messageId"]}

    assert [m["messageId"] for m in history(client, bob, chat_id)] == [first["messageId"]]
    assert client.get(f"{API}/chats/{chat_id}", headers=bob.headers).json()["unreadCount"] == 1


def test_every_device_of_both_users_hears_of_a_message(client, base_url, pair):
    alice, bob, chat_id = pair
    alice_phone, bob_phone = login(client, alice), login(client, bob)
    with (
        socket(base_url, alice.token) as alice_web,
        socket(base_url, alice_phone) as alice_other,
        socket(base_url, bob.token) as bob_web,
        socket(base_url, bob_phone) as bob_other,
    ):
        send_frame(alice_web, message_frame(chat_id, "to all devices", "tmp-multi"))
        message_id = wait_for(alice_web, "message_ack")["messageId"]
        for ws in (bob_web, bob_other, alice_other):
            pushed = wait_for(ws, "message")
            assert pushed["messageId"] == message_id
            assert pushed["content"] == text("to all devices")
        # Both of Bob's devices received it; Alice's devices see it delivered.
        for ws in (alice_web, alice_other):
            wait_for(ws, "delivered", lambda f: f["messageId"] == message_id)
    assert len(history(client, bob, chat_id)) == 1


def test_a_message_sent_over_rest_reaches_the_sockets(client, base_url, pair):
    alice, bob, chat_id = pair
    with socket(base_url, alice.token) as wa, socket(base_url, bob.token) as wb:
        sent = send(client, alice, chat_id, "from REST", temp_id="rest-1")
        pushed = wait_for(wb, "message")
        assert pushed["messageId"] == sent["messageId"]
        assert pushed["content"] == text("from REST")
        # The sender's own socket hears of it too (it did not send it), then sees it delivered.
        assert wait_for(wa, "message")["messageId"] == sent["messageId"]
        wait_for(wa, "delivered", lambda f: f["messageId"] == sent["messageId"])


def test_typing_is_relayed_to_the_other_member_only_and_never_stored(client, base_url, pair):
    alice, bob, chat_id = pair
    with socket(base_url, alice.token) as wa, socket(base_url, bob.token) as wb:
        for is_typing in (True, False):
            send_frame(wa, {"type": "typing", "chatId": chat_id, "isTyping": is_typing})
            typing = wait_for(wb, "typing")
            assert typing == {
                "type": "typing",
                "chatId": chat_id,
                "userId": alice.id,
                "isTyping": is_typing,
            }
        assert of_type(ping(wa) + frames_within(wa, QUIET), "typing") == []

    assert history(client, alice, chat_id) == []
    assert client.get(f"{API}/chats/{chat_id}", headers=alice.headers).json()["lastMessage"] is None
    assert client.get(f"{API}/chats", headers=bob.headers).json()["chats"] == []


def sync_frame(ws) -> dict:
    """The next message or sync_done frame (a sync also sends this device's own receipts)."""
    while True:
        frame = recv_frame(ws)
        if frame["type"] in ("message", "sync_done"):
            return frame


def test_sync_sends_what_was_missed_then_sync_done(client, base_url, pair):
    alice, bob, chat_id = pair
    sent = [send(client, alice, chat_id, f"while away {i}") for i in range(3)]
    ids = [m["messageId"] for m in sent]
    with socket(base_url, bob.token) as wb:
        send_frame(wb, {"type": "sync", "chatId": chat_id, "after": ids[0]})
        got = [sync_frame(wb) for _ in range(3)]
        assert [f["type"] for f in got] == ["message", "message", "sync_done"]
        assert [f["messageId"] for f in got[:2]] == ids[1:]
        assert [f["content"]["text"] for f in got[:2]] == ["while away 1", "while away 2"]
        assert got[2] == {
            "type": "sync_done",
            "chatId": chat_id,
            "hasMore": False,
            "nextCursor": None,
        }

        send_frame(wb, {"type": "sync", "chatId": chat_id})  # no "after": from the start
        everything = [sync_frame(wb) for _ in range(4)]
        assert [f.get("messageId") for f in everything[:3]] == ids
        assert everything[3]["type"] == "sync_done"

        send_frame(wb, {"type": "sync", "chatId": chat_id, "after": ids[-1]})
        assert sync_frame(wb) == {
            "type": "sync_done",
            "chatId": chat_id,
            "hasMore": False,
            "nextCursor": None,
        }


def test_messages_caught_up_by_sync_count_as_delivered(client, base_url, pair):
    alice, bob, chat_id = pair
    sent = send(client, alice, chat_id, "sent while Bob was offline")
    with socket(base_url, alice.token) as wa, socket(base_url, bob.token) as wb:
        send_frame(wb, {"type": "sync", "chatId": chat_id, "after": ""})
        assert wait_for(wb, "message")["messageId"] == sent["messageId"]
        wait_for(wb, "sync_done")
        # Bob's device now holds the message: Alice should see two ticks.
        wait_for(wa, "delivered", lambda f: f["messageId"] == sent["messageId"], timeout=3)
    assert history(client, alice, chat_id)[0]["status"] == "delivered"


# --- refused frames -------------------------------------------------------------------------

BAD_FRAMES = [
    ("{not json", "invalid_json", None),
    ('{"type": "message", "chatId": ', "invalid_json", None),
    ('{"type": "teleport", "chatId": "CHAT"}', "unknown_type", None),
    ("{}", "unknown_type", None),
    ("[1, 2, 3]", "invalid_frame", None),
    ('"ping"', "invalid_frame", None),
    ('{"type": "typing", "chatId": "CHAT", "isTyping": "yes"}', "invalid_input", None),
    ('{"type": "typing", "chatId": 5, "isTyping": true}', "invalid_input", None),
    ('{"type": "read", "chatId": "CHAT", "messageId": 7}', "invalid_input", None),
    ('{"type": "sync", "chatId": "CHAT", "after": 12}', "invalid_input", None),
    ('{"type": "message", "chatId": 5, "tempId": "t1", "content": {}}', "invalid_input", "t1"),
    (
        '{"type": "message", "chatId": "CHAT", "tempId": "t2", "content": "x"}',
        "invalid_input",
        "t2",
    ),
    ('{"type": "message", "chatId": "CHAT", "tempId": "t3"}', "invalid_input", "t3"),
    (
        '{"type": "message", "chatId": "CHAT", "tempId": "t4", '
        '"content": {"type": "text", "text": "   "}}',
        "invalid_input",
        "t4",
    ),
    (
        '{"type": "message", "chatId": "CHAT", "tempId": "t5", '
        '"content": {"type": "sticker", "id": 1}}',
        "invalid_input",
        "t5",
    ),
    (
        '{"type": "message", "chatId": "CHAT", "tempId": "t6", '
        '"content": {"type": "text", "text": "' + "a" * (64 * 1024 + 1) + '"}}',
        "too_large",
        "t6",
    ),
    ('{"type": "ping", "pad": "' + "p" * (128 * 1024) + '"}', "too_large", None),
    (
        '{"type": "message", "chatId": "CHAT", "tempId": "t7", '
        '"content": {"type": "text", "text": "' + "a" * (128 * 1024) + '"}}',
        "too_large",
        None,
    ),
]


@pytest.mark.parametrize(
    ("raw", "code", "temp_id"),
    BAD_FRAMES,
    ids=[
        "malformed-json",
        "truncated-json",
        "unknown-type",
        "no-type",
        "array",
        "string",
        "typing-bool-as-string",
        "typing-chat-id-int",
        "read-message-id-int",
        "sync-after-int",
        "message-chat-id-int",
        "message-content-string",
        "message-no-content",
        "message-blank-text",
        "message-unknown-content-type",
        "message-over-64k",
        "frame-over-128k",
        "message-frame-over-128k",
    ],
)
def test_a_refused_frame_gets_an_error_keeps_the_socket_and_stores_nothing(
    client, base_url, pair, raw, code, temp_id
):
    alice, bob, chat_id = pair
    with socket(base_url, alice.token) as wa, socket(base_url, bob.token) as wb:
        wa.send(raw.replace("CHAT", chat_id))
        error = wait_for(wa, "error")
        assert error["code"] == code
        assert isinstance(error["message"], str) and error["message"]
        if temp_id is None:
            assert "tempId" not in error
        else:
            assert error["tempId"] == temp_id
        # The socket lives on.
        send_frame(wa, {"type": "ping"})
        assert recv_frame(wa) == {"type": "pong"}
        # Bob heard nothing, and nothing was stored.
        assert not_presence(ping(wb) + frames_within(wb, QUIET)) == []
    assert history(client, alice, chat_id) == []


def test_many_errors_in_a_row_do_not_close_the_socket(client, base_url, pair):
    alice, _bob, chat_id = pair
    with socket(base_url, alice.token) as wa:
        for raw, code, _ in BAD_FRAMES:
            wa.send(raw.replace("CHAT", chat_id))
            assert wait_for(wa, "error")["code"] == code
        send_frame(wa, message_frame(chat_id, "still works", "after-errors"))
        assert wait_for(wa, "message_ack")["tempId"] == "after-errors"
    assert [m["content"]["text"] for m in history(client, alice, chat_id)] == ["still works"]


def test_a_frame_over_128_kib_of_utf8_is_too_large(client, base_url):
    account = register(client, "bigutf8")
    raw = json.dumps({"type": "ping", "pad": "€" * 50_000}, ensure_ascii=False)
    assert len(raw) < 128 * 1024 < len(raw.encode("utf-8"))
    with socket(base_url, account.token) as ws:
        ws.send(raw)
        frame = recv_frame(ws)
        assert frame["type"] == "error"
        assert frame["code"] == "too_large"


# --- authorization over the socket ----------------------------------------------------------


def test_an_outsider_learns_nothing_and_changes_nothing_over_the_socket(client, base_url, pair):
    alice, bob, chat_id = pair
    secret = send(client, alice, chat_id, "our secret")
    mallory = register(client, "mallory")
    unknown = str(uuid.uuid4())
    with (
        socket(base_url, alice.token) as wa,
        socket(base_url, bob.token) as wb,
        socket(base_url, mallory.token) as wm,
    ):
        for target in (chat_id, unknown, "not-a-chat-id"):
            send_frame(wm, message_frame(target, "let me in", f"m-{target[:8]}"))
            error = wait_for(wm, "error")
            assert error == {
                "type": "error",
                "code": "not_found",
                "message": NOT_MEMBER,
                "tempId": f"m-{target[:8]}",
            }
            for frame in (
                {"type": "typing", "chatId": target, "isTyping": True},
                {"type": "read", "chatId": target, "messageId": secret["messageId"]},
                {"type": "sync", "chatId": target, "after": ""},
            ):
                send_frame(wm, frame)
                assert recv_frame(wm) == {
                    "type": "error",
                    "code": "not_found",
                    "message": NOT_MEMBER,
                }
        assert not_presence(ping(wm)) == []
        # The members heard nothing of it: no message, no typing, no receipt.
        assert not_presence(ping(wa) + frames_within(wa, QUIET)) == []
        assert not_presence(ping(wb) + frames_within(wb, QUIET)) == []

    assert [m["messageId"] for m in history(client, alice, chat_id)] == [secret["messageId"]]
    assert history(client, alice, chat_id)[0]["status"] != "read"  # Mallory's read moved nothing


# --- sign-out -------------------------------------------------------------------------------


def test_logout_closes_that_sessions_socket_with_4401(client, base_url):
    account = register(client, "leaver")
    with socket(base_url, account.token) as ws:
        assert client.post(f"{API}/auth/logout", headers=account.headers).status_code == 204
        with pytest.raises(ConnectionClosed) as closed:
            while True:  # frames already on their way may come first
                recv_frame(ws, timeout=5)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 4401


def test_logout_leaves_the_same_users_other_sessions_socket_open(client, base_url, pair):
    alice, bob, chat_id = pair
    phone = login(client, alice)
    with socket(base_url, alice.token) as signed_out, socket(base_url, phone) as still_in:
        assert client.post(f"{API}/auth/logout", headers=alice.headers).status_code == 204

        send_frame(still_in, {"type": "ping"})
        assert wait_for(still_in, "pong") == {"type": "pong"}
        sent = send(client, bob, chat_id, "are you there?")
        assert wait_for(still_in, "message")["messageId"] == sent["messageId"]
        send_frame(still_in, message_frame(chat_id, "yes, on my phone", "phone-1"))
        assert wait_for(still_in, "message_ack")["tempId"] == "phone-1"

        # The signed-out socket gets none of it.
        try:
            late = frames_within(signed_out, QUIET)
        except ConnectionClosed:
            late = []
        assert of_type(late, "message") == []
    assert [m["content"]["text"] for m in history(client, bob, chat_id)] == [
        "are you there?",
        "yes, on my phone",
    ]


def test_a_signed_out_token_cannot_open_a_new_socket(client, base_url):
    account = register(client, "gone")
    other_session = login(client, account)
    assert client.post(f"{API}/auth/logout", headers=account.headers).status_code == 204
    assert refusal(ws_url(base_url, account.token)) == "close 4401"
    assert refusal(ws_url(base_url, other_session)) == "open"


def test_a_socket_whose_session_ends_elsewhere_is_closed_by_the_periodic_check(
    client, base_url, app_services
):
    account = register(client, "expiring")
    with socket(base_url, account.token) as ws:
        # Revoked by another process (as an expiry would be): no bus event reaches the app,
        # only the quiet-socket re-check can notice (every 3 s under the test settings).
        app_services.accounts.logout(account.token)
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                ws.recv(timeout=10)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401


def test_the_token_may_come_as_a_bearer_header(client, base_url):
    account = register(client, "header")
    url = ws_url(base_url, "")
    assert refusal(url) == "close 4401"
    assert refusal(url, additional_headers={"Authorization": f"Bearer {account.token}"}) == "open"


@pytest.mark.parametrize(
    "raw",
    [
        "[" * 100_000,
        '{"type": "message", "chatId": "x", "content": {"type": "text", "text": "\\ud800"}}',
    ],
    ids=["nested-too-deep", "lone-surrogate"],
)
def test_frames_that_break_parsers_get_an_error_and_the_socket_lives(client, base_url, pair, raw):
    alice, _, chat_id = pair
    with socket(base_url, alice.token) as ws:
        ws.send(raw.replace('"x"', f'"{chat_id}"'))
        assert recv_frame(ws)["type"] == "error"
        ping(ws)
    assert history(client, alice, chat_id) == []


def test_a_busy_socket_whose_session_ended_elsewhere_is_closed(
    client, base_url, pair, app_services
):
    alice, _, chat_id = pair
    with socket(base_url, alice.token) as ws:
        app_services.accounts.logout(alice.token)  # another process: no bus event reaches the app
        with pytest.raises(ConnectionClosed) as closed:
            for _ in range(100):  # keep it busy: typing every 100 ms, never quiet
                send_frame(ws, {"type": "typing", "chatId": chat_id, "isTyping": True})
                with contextlib.suppress(TimeoutError):
                    ws.recv(timeout=0.1)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401


def test_presence_frames_say_online_then_offline_with_last_seen(client, base_url, pair):
    alice, bob, _ = pair
    with socket(base_url, alice.token) as wa:
        with socket(base_url, bob.token):
            online = wait_for(wa, "presence", where=lambda f: f["userId"] == bob.id)
            assert online == {"type": "presence", "userId": bob.id, "status": "online"}
        # Bob's socket closed cleanly: he is offline at once, with the time he was last seen.
        offline = wait_for(wa, "presence", where=lambda f: f["userId"] == bob.id)
        assert offline["status"] == "offline"
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", offline["lastSeen"])
