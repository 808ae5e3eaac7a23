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


def _signature(messages: list[MessageView]) -> list[tuple[str, str, str]]:
    return [(m.id, m.status, m.day_label) for m in messages]


def place(
    history: list[MessageView], combined: list[MessageView], *, limit: int = LIVE_WINDOW
) -> Placement:
    """Split the new full window ``combined`` so that ``history`` changes as rarely as can be."""
    n = len(history)
    if len(combined) - n <= TAIL_MAX and _signature(combined[:n]) == _signature(history):
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
