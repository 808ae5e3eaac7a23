"""Frames for message actions: replies on the send frame, and the server frames for changes."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from backend.api.frames import FrameError, SendCommand, event_frames, message_frame, parse_frame
from backend.events import MessageHidden, MessageUpdated, StarChanged
from backend.models import Message, Quote, Reaction

CHAT = "7d4c3a2b-1111-4222-8333-444455556666"
ALICE = "0a0a0a0a-0000-4000-8000-000000000001"
BOB = "0b0b0b0b-0000-4000-8000-000000000002"
M1 = "01a2101b-ee53-7000-8881-e88d4fab3664"
M2 = "01a2101b-ee54-7000-8881-e88d4fab3665"
WHEN = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
LATER = datetime(2026, 1, 2, 3, 10, tzinfo=UTC)


def test_a_message_frame_may_name_the_message_it_replies_to():
    raw = {"type": "message", "chatId": CHAT, "tempId": "t", "content": {"type": "text"}}
    assert parse_frame(json.dumps({**raw, "replyTo": M1}), 4096) == SendCommand(
        CHAT, "t", {"type": "text"}, M1
    )
    assert parse_frame(json.dumps(raw), 4096) == SendCommand(CHAT, "t", {"type": "text"})
    for bad in (5, ["x"], "x" * 65):
        with pytest.raises(FrameError) as refused:
            parse_frame(json.dumps({**raw, "replyTo": bad}), 4096)
        assert refused.value.temp_id == "t"


def test_a_plain_message_frame_has_no_action_fields_but_a_reply_or_forward_has_them():
    plain = Message(M2, CHAT, BOB, {"type": "text", "text": "hi"}, WHEN)
    assert set(message_frame(plain)) == {
        "type",
        "messageId",
        "chatId",
        "senderId",
        "content",
        "timestamp",
    }
    reply = Message(
        M2, CHAT, BOB, {"type": "text", "text": "yes"}, WHEN, quote=Quote(M1, ALICE, "lunch?")
    )
    frame = message_frame(reply)
    assert frame["replyTo"] == M1
    assert frame["quote"] == {
        "messageId": M1,
        "senderId": ALICE,
        "preview": "lunch?",
        "deleted": False,
    }
    assert message_frame(Message(M2, CHAT, BOB, {}, WHEN, forwarded=True))["forwarded"] is True


def test_an_update_is_one_frame_with_the_whole_visible_state():
    message = Message(
        M1,
        CHAT,
        ALICE,
        {"type": "text", "text": "edited"},
        WHEN,
        edited_at=LATER,
        reactions=(Reaction(BOB, "❤️"), Reaction(ALICE, "❤️"), Reaction("c", "😂")),
    )
    assert event_frames(MessageUpdated(CHAT, message)) == [
        {
            "type": "message_updated",
            "messageId": M1,
            "chatId": CHAT,
            "senderId": ALICE,
            "content": {"type": "text", "text": "edited"},
            "timestamp": "2026-01-02T03:04:05.678901Z",
            "replyTo": None,
            "quote": None,
            "forwarded": False,
            "editedAt": "2026-01-02T03:10:00Z",
            "deleted": False,
            "reactions": [
                {"emoji": "❤️", "userIds": [BOB, ALICE]},
                {"emoji": "😂", "userIds": ["c"]},
            ],
        }
    ]
    tombstone = Message(M1, CHAT, ALICE, {"type": "deleted"}, WHEN, deleted_at=LATER)
    [frame] = event_frames(MessageUpdated(CHAT, tombstone))
    assert frame["deleted"] is True and frame["content"] == {"type": "deleted"}


def test_hiding_and_starring_are_frames_for_the_users_own_devices():
    assert event_frames(MessageHidden(CHAT, M1)) == [
        {"type": "message_hidden", "chatId": CHAT, "messageId": M1}
    ]
    assert event_frames(StarChanged(CHAT, M1, True)) == [
        {"type": "star", "chatId": CHAT, "messageId": M1, "starred": True}
    ]
