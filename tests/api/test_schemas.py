"""REST bodies built from service values: system lines and group chats serialize as declared."""

from __future__ import annotations

from datetime import UTC, datetime

from backend.api.schemas import ChatOut, MessageOut
from backend.models import Chat, ChatKind, ChatSummary, Message, MessageStatus, Receipts

ALICE = "0a0a0a0a-0000-4000-8000-000000000001"
CHAT = "7d4c3a2b-1111-4222-8333-444455556666"
M1 = "01a2101b-ee53-7000-8881-e88d4fab3664"
WHEN = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
LINE = {
    "type": "system",
    "event": "renamed",
    "actor": {"id": ALICE, "name": "Alice"},
    "targets": [],
    "title": "Trip",
}


def test_a_system_line_has_no_ticks_even_for_its_actor() -> None:
    line = Message(id=M1, chat_id=CHAT, sender_id=ALICE, content=LINE, created_at=WHEN)
    body = MessageOut.of(line, ALICE, Receipts(read_upto=M1)).model_dump(by_alias=True)
    assert body["content"] == LINE
    assert body["senderId"] == ALICE
    assert body["status"] is None and body["tempId"] is None
    # an ordinary message of the same sender still shows its tick
    text = Message(id=M1, chat_id=CHAT, sender_id=ALICE, content={"type": "text"}, created_at=WHEN)
    assert MessageOut.of(text, ALICE, Receipts(read_upto=M1)).status is MessageStatus.READ


def test_a_group_chat_says_its_kind_size_and_whether_you_are_in_it() -> None:
    chat = Chat(id=CHAT, kind=ChatKind.GROUP, title="Trip", created_by=ALICE, created_at=WHEN)
    summary = ChatSummary(
        chat=chat, title="Trip", unread=0, receipts=Receipts(), is_member=False, member_count=7
    )
    body = ChatOut.of(summary).model_dump(by_alias=True, mode="json")
    assert body["type"] == "group"
    assert body["memberCount"] == 7
    assert body["isMember"] is False
