"""Which messages of the open chat the browser holds, split so a new message resends little.

Reflex resends a list var whole whenever it changes. The open chat is therefore held as two
lists: ``history`` (the pages loaded when the chat opened or was scrolled back, which rarely
changes) and ``recent`` (what arrived since, at most ``TAIL_MAX``). A new message, or a tick on
one, resends only ``recent``; every ``TAIL_MAX`` messages the tail is folded into the history,
which is then trimmed back to ``LIVE_WINDOW`` (older messages page back in on scroll).
"""

from __future__ import annotations

import dataclasses

from backend.models import MessageStatus, Receipts
from chat_web.views import MessageView

TAIL_MAX = 30
LIVE_WINDOW = 100
MAX_WINDOW = 300


@dataclasses.dataclass(frozen=True)
class Placement:
    history: list[MessageView]
    recent: list[MessageView]
    history_changed: bool
    trimmed: bool


def is_stored(message: MessageView) -> bool:
    return message.status not in (MessageStatus.PENDING, MessageStatus.FAILED)


def place(
    history: list[MessageView], combined: list[MessageView], *, limit: int = LIVE_WINDOW
) -> Placement:
    """Split the new full window ``combined`` so that ``history`` changes as rarely as can be."""
    n = len(history)
    # Whole views are compared: an edit or a reaction on a message in ``history`` resends it.
    if len(combined) - n <= TAIL_MAX and combined[:n] == history:
        return Placement(history, combined[n:], history_changed=False, trimmed=False)
    trimmed = len(combined) > limit
    return Placement(combined[-limit:], [], history_changed=True, trimmed=trimmed)


def with_arrival(combined: list[MessageView], view: MessageView) -> list[MessageView] | None:
    """``combined`` with ``view`` in server order, replacing its pending twin; None if shown."""
    if any(m.id == view.id for m in combined):
        return None  # at-least-once delivery: seen already
    kept = [m for m in combined if not (view.temp_id and m.temp_id == view.temp_id)]
    kept.append(view)
    # Stored messages in server order (a late arrival slots in), unconfirmed ones after them.
    kept.sort(key=lambda m: ("", m.id) if is_stored(m) else ("~", ""))
    return kept


def with_receipts(combined: list[MessageView], receipts: Receipts) -> list[MessageView]:
    """The ticks of own stored messages re-derived from the chat's watermarks."""
    return [
        dataclasses.replace(m, status=receipts.status_of(m.id).value)
        if m.mine and is_stored(m) and m.status != receipts.status_of(m.id).value
        else m
        for m in combined
    ]


def with_status(combined: list[MessageView], temp_id: str, status: str) -> list[MessageView]:
    return [
        dataclasses.replace(m, status=status) if m.temp_id == temp_id and not is_stored(m) else m
        for m in combined
    ]


def with_update(combined: list[MessageView], view: MessageView) -> list[MessageView] | None:
    """``combined`` with the message of ``view``'s id replaced (edited, deleted, reacted to),
    keeping what only this viewer knows (their star, the day label); None if not in it."""
    if not any(m.id == view.id for m in combined):
        return None
    return [
        dataclasses.replace(view, starred=m.starred, day_label=m.day_label)
        if m.id == view.id
        else m
        for m in combined
    ]


def without(combined: list[MessageView], message_id: str) -> list[MessageView]:
    return [m for m in combined if m.id != message_id]


def with_star(combined: list[MessageView], message_id: str, starred: bool) -> list[MessageView]:
    return [
        dataclasses.replace(m, starred=starred)
        if m.id == message_id and m.starred != starred
        else m
        for m in combined
    ]
