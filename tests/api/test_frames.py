"""The gateway's pure parts: client frames checked into commands, bus events turned into
server frames, and the Origin rule of the handshake."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from backend.api.frames import (
    FrameError,
    PingCommand,
    ReadCommand,
    SendCommand,
    SyncCommand,
    TypingCommand,
    ack_frame,
    error_frame,
    event_frames,
    message_frame,
    parse_frame,
)
from backend.api.gateway import origin_allowed
from backend.errors import InvalidInput
from backend.events import (
    ChatChanged,
    MessageCreated,
    ReceiptsChanged,
    SessionEnded,
    TypingChanged,
)
from backend.models import Message, Receipts

MAX = 128 * 1024
CHAT = "7d4c3a2b-1111-4222-8333-444455556666"
ALICE = "0a0a0a0a-0000-4000-8000-000000000001"
BOB = "0b0b0b0b-0000-4000-8000-000000000002"
M1 = "01a2101b-ee53-7000-8881-e88d4fab3664"
M2 = "01a2101b-ee54-7000-8881-e88d4fab3665"
WHEN = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)


def parse(frame: object, max_bytes: int = MAX):
    return parse_frame(json.dumps(frame), max_bytes)


def refusal(raw: str | bytes, max_bytes: int = MAX) -> FrameError:
    with pytest.raises(FrameError) as caught:
        parse_frame(raw, max_bytes)
    return caught.value


# --- parse_frame: accepted frames -----------------------------------------------------------


def test_a_ping_is_a_ping_whatever_else_it_carries():
    assert parse({"type": "ping"}) == PingCommand()
    assert parse({"type": "ping", "id": 7}) == PingCommand()


def test_a_message_frame_becomes_a_send_command():
    command = parse(
        {
            "type": "message",
            "chatId": CHAT,
            "tempId": "t-1",
            "content": {"type": "text", "text": "hi"},
        }
    )
    assert command == SendCommand(CHAT, "t-1", {"type": "text", "text": "hi"})


def test_a_message_without_a_usable_temp_id_gets_an_empty_one():
    content = {"type": "text", "text": "hi"}
    assert parse({"type": "message", "chatId": CHAT, "content": content}).temp_id == ""
    assert parse({"type": "message", "chatId": CHAT, "content": content, "tempId": 5}).temp_id == ""


def test_the_content_is_passed_on_as_sent_for_the_service_to_judge():
    # Content rules (type, emptiness, size) are the messaging service's, not the frame's.
    content = {"type": "sticker", "id": 3}
    assert parse({"type": "message", "chatId": CHAT, "content": content}).content == content


@pytest.mark.parametrize("is_typing", [True, False])
def test_a_typing_frame_becomes_a_typing_command(is_typing):
    assert parse({"type": "typing", "chatId": CHAT, "isTyping": is_typing}) == TypingCommand(
        CHAT, is_typing
    )


def test_a_read_frame_becomes_a_read_command():
    assert parse({"type": "read", "chatId": CHAT, "messageId": M1}) == ReadCommand(CHAT, M1)


def test_a_sync_frame_becomes_a_sync_command_from_the_start_by_default():
    assert parse({"type": "sync", "chatId": CHAT, "after": M1}) == SyncCommand(CHAT, M1)
    assert parse({"type": "sync", "chatId": CHAT}) == SyncCommand(CHAT, "")


def test_bytes_frames_are_read_like_text_frames():
    assert parse_frame(b'{"type": "ping"}', MAX) == PingCommand()
    raw = json.dumps({"type": "read", "chatId": CHAT, "messageId": M1}).encode()
    assert parse_frame(raw, MAX) == ReadCommand(CHAT, M1)


def test_a_frame_exactly_at_the_limit_is_accepted():
    head = '{"type": "ping", "pad": "'
    raw = head + "p" * (MAX - len(head) - 2) + '"}'
    assert len(raw) == MAX
    assert parse_frame(raw, MAX) == PingCommand()


# --- parse_frame: refused frames ------------------------------------------------------------


@pytest.mark.parametrize("raw", ["{nope", "", '{"type": "ping"', b"\xff\xfe\x00", "NaN-ish {"])
def test_text_that_is_not_json_is_invalid_json(raw):
    error = refusal(raw)
    assert error.code == "invalid_json"
    assert error.temp_id == ""


@pytest.mark.parametrize("raw", ["[]", "[1, 2]", '"ping"', "42", "null", "true"])
def test_json_that_is_not_an_object_is_invalid_frame(raw):
    assert refusal(raw).code == "invalid_frame"


@pytest.mark.parametrize("kind", ["teleport", "", None, 5, "PING", "message_ack", "pong"])
def test_an_unknown_type_is_unknown_type_and_echoes_the_temp_id(kind):
    error = refusal(json.dumps({"type": kind, "tempId": "t-9"}))
    assert error.code == "unknown_type"
    assert error.temp_id == "t-9"


def test_a_missing_type_is_unknown_type():
    assert refusal("{}").code == "unknown_type"


def test_the_unknown_type_is_quoted_but_cut_short():
    error = refusal(json.dumps({"type": "x" * 1000}))
    assert "x" * 40 in error.message
    assert "x" * 41 not in error.message


@pytest.mark.parametrize(
    ("frame", "temp_id"),
    [
        ({"type": "message", "chatId": CHAT, "tempId": "a", "content": "x"}, "a"),
        ({"type": "message", "chatId": CHAT, "tempId": "b", "content": ["x"]}, "b"),
        ({"type": "message", "chatId": CHAT, "tempId": "c"}, "c"),
        ({"type": "message", "chatId": 5, "tempId": "d", "content": {}}, "d"),
        ({"type": "message", "chatId": "", "tempId": "e", "content": {}}, "e"),
        ({"type": "message", "tempId": "f", "content": {}}, "f"),
        ({"type": "typing", "chatId": CHAT, "isTyping": "yes"}, ""),
        ({"type": "typing", "chatId": CHAT, "isTyping": 1}, ""),
        ({"type": "typing", "chatId": CHAT}, ""),
        ({"type": "typing", "chatId": 5, "isTyping": True}, ""),
        ({"type": "read", "chatId": CHAT}, ""),
        ({"type": "read", "chatId": CHAT, "messageId": 7}, ""),
        ({"type": "read", "chatId": None, "messageId": M1}, ""),
        ({"type": "sync", "chatId": CHAT, "after": 12}, ""),
        ({"type": "sync", "chatId": CHAT, "after": None}, ""),
        ({"type": "sync", "after": M1}, ""),
    ],
)
def test_wrong_types_are_invalid_input(frame, temp_id):
    error = refusal(json.dumps(frame))
    assert error.code == "invalid_input"
    assert error.temp_id == temp_id
    assert error.message


def test_a_frame_error_is_an_invalid_input_for_the_services_error_handling():
    error = refusal("{")
    assert isinstance(error, InvalidInput)
    assert str(error) == error.message


def test_a_frame_over_the_limit_is_too_large_before_it_is_parsed():
    raw = json.dumps({"type": "ping", "pad": "p" * MAX})
    error = refusal(raw)
    assert error.code == "too_large"
    assert str(MAX) in error.message
    # Even garbage: the size is checked first, so nothing big is ever parsed.
    assert refusal("{" * (MAX + 1)).code == "too_large"
    assert refusal(b"x" * (MAX + 1)).code == "too_large"
    assert refusal("{}", max_bytes=1).code == "too_large"


def test_the_frame_limit_counts_utf8_bytes_not_characters():
    raw = json.dumps({"type": "ping", "pad": "€" * 1000}, ensure_ascii=False)
    assert len(raw) < 2048 < len(raw.encode("utf-8"))
    assert refusal(raw, max_bytes=2048).code == "too_large"


# --- server frames --------------------------------------------------------------------------


def a_message(**changes: object) -> Message:
    fields: dict = {
        "id": M1,
        "chat_id": CHAT,
        "sender_id": ALICE,
        "content": {"type": "text", "text": "Hello"},
        "created_at": WHEN,
        "temp_id": "t-1",
    }
    return Message(**{**fields, **changes})


def test_a_new_message_is_one_message_frame_without_the_senders_temp_id():
    frames = event_frames(MessageCreated(CHAT, a_message()))
    assert frames == [
        {
            "type": "message",
            "messageId": M1,
            "chatId": CHAT,
            "senderId": ALICE,
            "content": {"type": "text", "text": "Hello"},
            "timestamp": "2026-01-02T03:04:05.678901Z",  # as REST bodies write it
        }
    ]
    assert frames == [message_frame(a_message())]
    json.dumps(frames)  # ready for the wire


SYSTEM_LINE = {
    "type": "system",
    "event": "added",
    "actor": {"id": ALICE, "name": "Alice"},
    "targets": [{"id": BOB, "name": "Bob \u00e9\u00e8"}],
}


def test_a_system_line_is_a_message_frame_carrying_its_fields_as_they_are():
    line = a_message(content=SYSTEM_LINE, temp_id="")
    [frame] = event_frames(MessageCreated(CHAT, line))
    assert frame["type"] == "message"
    assert frame["senderId"] == ALICE  # the actor
    assert json.loads(json.dumps(frame))["content"] == SYSTEM_LINE  # survives the wire


def test_a_receipt_change_is_a_delivered_and_a_read_frame():
    event = ReceiptsChanged(
        chat_id=CHAT,
        user_id=BOB,
        delivered_upto=M2,
        read_upto=M1,
        chat_receipts=Receipts(delivered_upto=M2, read_upto=M1),
    )
    assert event_frames(event) == [
        {"type": "delivered", "chatId": CHAT, "userId": BOB, "messageId": M2, "deliveredUpto": M2},
        {
            "type": "read",
            "chatId": CHAT,
            "userId": BOB,
            "lastReadMessageId": M1,
            "chatReadUpto": M1,
        },
    ]


def test_the_delivered_frame_carries_the_chats_aggregate_not_the_members_own():
    # Bob's device has everything (M2) but Carol's has only M1: the sender's tick is at M1.
    event = ReceiptsChanged(
        chat_id=CHAT,
        user_id=BOB,
        delivered_upto=M2,
        read_upto="",
        chat_receipts=Receipts(delivered_upto=M1, read_upto=""),
    )
    delivered, read = event_frames(event)
    assert (delivered["messageId"], delivered["deliveredUpto"]) == (M1, M2)
    assert (read["lastReadMessageId"], read["chatReadUpto"]) == ("", "")


@pytest.mark.parametrize("is_typing", [True, False])
def test_typing_is_one_typing_frame(is_typing):
    assert event_frames(TypingChanged(CHAT, ALICE, is_typing)) == [
        {"type": "typing", "chatId": CHAT, "userId": ALICE, "isTyping": is_typing}
    ]


def test_a_chat_change_is_a_chat_frame():
    assert event_frames(ChatChanged(CHAT)) == [{"type": "chat", "chatId": CHAT}]


def test_a_session_end_is_no_frame_the_gateway_closes_the_socket_instead():
    assert event_frames(SessionEnded(ALICE, "ab" * 32)) == []  # type: ignore[arg-type]


def test_an_ack_names_the_temp_id_and_the_stored_message():
    assert ack_frame("t-1", a_message()) == {
        "type": "message_ack",
        "tempId": "t-1",
        "messageId": M1,
        "chatId": CHAT,
        "status": "sent",
        "timestamp": "2026-01-02T03:04:05.678901Z",  # as REST bodies write it
    }


def test_an_error_frame_echoes_the_temp_id_only_when_there_is_one():
    assert error_frame("not_found", "No.", "t-1") == {
        "type": "error",
        "code": "not_found",
        "message": "No.",
        "tempId": "t-1",
    }
    assert error_frame("invalid_json", "Bad.") == {
        "type": "error",
        "code": "invalid_json",
        "message": "Bad.",
    }
    assert "tempId" not in error_frame("invalid_json", "Bad.", "")


# --- origin_allowed -------------------------------------------------------------------------

HOST = "chat.example:8443"


@pytest.mark.parametrize("origin", [None, ""])
def test_clients_that_send_no_origin_are_let_through(origin):
    assert origin_allowed(origin, HOST, ()) is True


@pytest.mark.parametrize("origin", ["https://chat.example:8443", "http://chat.example:8443"])
def test_the_apps_own_origin_is_allowed(origin):
    assert origin_allowed(origin, HOST, ()) is True


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example",
        "https://chat.example",  # another port is another origin
        "https://chat.example:8444",
        "https://chat.example:8443.evil.example",
        "https://evil.example/chat.example:8443",
        "https://user@chat.example:8443@evil.example",
        "null",
        "chat.example:8443",
    ],
)
def test_other_origins_are_refused(origin):
    assert origin_allowed(origin, HOST, ()) is False


def test_configured_origins_are_allowed_with_or_without_a_trailing_slash():
    allowed = ("https://app.example", "https://admin.example:9000")
    assert origin_allowed("https://app.example", HOST, allowed) is True
    assert origin_allowed("https://app.example/", HOST, allowed) is True
    assert origin_allowed("https://admin.example:9000", HOST, allowed) is True
    assert origin_allowed("https://admin.example", HOST, allowed) is False
    assert origin_allowed("http://app.example", HOST, allowed) is False
    assert origin_allowed("https://evil.example", HOST, allowed) is False


def test_a_wildcard_allows_any_origin():
    assert origin_allowed("https://evil.example", HOST, ("*",)) is True


def test_without_a_host_header_only_configured_origins_pass():
    assert origin_allowed("https://evil.example", None, ()) is False
    assert origin_allowed("https://app.example", None, ("https://app.example",)) is True
