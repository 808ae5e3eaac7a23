"""The global search's filters as the browser gives them, turned into the search service's terms.

Dates come from ``<input type="date">`` as ``YYYY-MM-DD`` days of the viewer's calendar: "from
the 11th to the 12th" means from midnight starting the 11th to midnight ending the 12th *where
the viewer is*, which this module turns into UTC instants (the service compares them with the
stored UTC times).
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, time, timedelta, tzinfo

# The content types a search can be narrowed to, with the catalogue key of each one's name.
TYPE_LABELS: dict[str, str] = {
    "text": "search.type_text",
    "image": "search.type_image",
    "video": "search.type_video",
    "document": "search.type_document",
    "voice": "search.type_voice",
}


class BadFilter(ValueError):
    """A filter value no control of the page would give (a hand-made event): a catalogue key."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


@dataclasses.dataclass(frozen=True)
class Filters:
    """What a search is narrowed to; empty strings mean "any"."""

    chat_id: str = ""
    sender_id: str = ""
    from_day: str = ""  # YYYY-MM-DD, inclusive, in the viewer's zone
    to_day: str = ""  # YYYY-MM-DD, inclusive, in the viewer's zone
    content_type: str = ""

    @property
    def is_any(self) -> bool:
        return self == Filters()

    def time_range(self, zone: tzinfo | None) -> tuple[datetime | None, datetime | None]:
        """The UTC instants ``[since, until]`` of the chosen days in ``zone`` (UTC if None).

        Raises:
            BadFilter: a day that is not a date, or a range that ends before it starts.
        """
        zone = zone or UTC
        first, last = _day(self.from_day), _day(self.to_day)
        if first and last and first > last:
            raise BadFilter("search.bad_range")
        since = _midnight(first, zone) if first else None
        until = None
        if last and last < date.max:
            # The last instant of that day: the service's bound is inclusive.
            until = _midnight(last + timedelta(days=1), zone) - timedelta(microseconds=1)
        return since, until

    def checked_type(self) -> str:
        if self.content_type and self.content_type not in TYPE_LABELS:
            raise BadFilter("search.bad_type")
        return self.content_type


def _day(value: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadFilter("search.bad_date") from None


def _midnight(day: date, zone: tzinfo) -> datetime:
    # zoneinfo resolves a midnight that a DST change skips or repeats (fold=0: the first).
    return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)
