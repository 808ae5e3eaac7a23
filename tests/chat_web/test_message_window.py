"""The open chat's window: a new message or tick resends only the short tail."""

from __future__ import annotations

import dataclasses

from backend.models import Receipts
from chat_web import message_window as window
from chat_web.views import MessageView


def msg(n: int, *, mine: bool = True, status: str = "sent", temp: str = "") -> MessageView:
    return MessageView(
        id=f"m{n:04d}",
        temp_id=temp,
        text=f"text {n}",
        sent_at="2026-01-01T00:00:00+00:00",
        mine=mine,
        status=status if mine else "",
    )


def pending(temp: str) -> MessageView:
    return MessageView(id=temp, temp_id=temp, text="draft", sent_at="", mine=True, status="pending")


def test_a_new_message_only_grows_the_tail():
    history = [msg(i) for i in range(50)]
    placed = window.place(history, [*history, msg(50)])
    assert not placed.history_changed
    assert placed.history is history
    assert [m.id for m in placed.recent] == ["m0050"]


def test_the_tail_folds_into_history_and_the_window_is_trimmed():
    history = [msg(i) for i in range(window.LIVE_WINDOW)]
    combined = history + [msg(100 + i) for i in range(window.TAIL_MAX + 1)]
    placed = window.place(history, combined)
    assert placed.history_changed and placed.trimmed
    assert placed.recent == []
    assert len(placed.history) == window.LIVE_WINDOW
    assert placed.history[-1].id == combined[-1].id


def test_a_changed_tick_in_history_resends_history():
    history = [msg(i) for i in range(5)]
    updated = window.with_receipts(history, Receipts(delivered_upto="m0002", read_upto="m0001"))
    assert [m.status for m in updated] == ["read", "read", "delivered", "sent", "sent"]
    assert window.place(history, updated).history_changed


def test_ticks_are_re_derived_only_for_own_stored_messages():
    combined = [msg(1), msg(2, mine=False), pending("t-1")]
    updated = window.with_receipts(combined, Receipts(delivered_upto="m9999", read_upto="m9999"))
    assert updated[0].status == "read"
    assert updated[1] is combined[1]
    assert updated[2] is combined[2]  # a pending message has no server id to compare


def test_an_arrival_replaces_its_pending_twin_and_keeps_server_order():
    combined = [msg(1), msg(3), pending("t-2")]
    stored = dataclasses.replace(msg(2), temp_id="t-2")
    arrived = window.with_arrival(combined, stored)
    assert arrived is not None
    assert [m.id for m in arrived] == ["m0001", "m0002", "m0003"]


def test_unconfirmed_messages_stay_after_stored_ones():
    combined = [msg(1), pending("t-9")]
    arrived = window.with_arrival(combined, msg(2, mine=False))
    assert arrived is not None
    assert [m.id for m in arrived] == ["m0001", "m0002", "t-9"]


def test_a_repeated_arrival_changes_nothing():
    combined = [msg(1), msg(2)]
    assert window.with_arrival(combined, msg(2)) is None


def test_a_failed_send_can_go_back_to_pending_and_stored_ones_are_untouched():
    combined = [msg(1, temp="t-1"), pending("t-2")]
    failed = window.with_status(combined, "t-2", "failed")
    assert [m.status for m in failed] == ["sent", "failed"]
    assert window.with_status(failed, "t-1", "failed")[0].status == "sent"
    assert window.with_status(failed, "t-2", "pending")[1].status == "pending"
