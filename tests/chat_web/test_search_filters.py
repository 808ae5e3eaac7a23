"""The search filters of the web UI: days in the viewer's zone become UTC instants."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime

import pytest

from chat_web.search_filters import BadFilter, Filters

KIRITIMATI = zoneinfo.ZoneInfo("Pacific/Kiritimati")  # UTC+14 all year
NEW_YORK = zoneinfo.ZoneInfo("America/New_York")


def test_a_day_is_the_viewers_day_not_the_servers() -> None:
    since, until = Filters(from_day="2025-03-11", to_day="2025-03-11").time_range(KIRITIMATI)

    assert since == datetime(2025, 3, 10, 10, 0, tzinfo=UTC)
    assert until == datetime(2025, 3, 11, 9, 59, 59, 999999, tzinfo=UTC)


def test_without_a_zone_days_are_utc_days_and_either_end_may_be_open() -> None:
    assert Filters(from_day="2025-03-11").time_range(None) == (
        datetime(2025, 3, 11, tzinfo=UTC),
        None,
    )
    assert Filters(to_day="2025-03-11").time_range(None) == (
        None,
        datetime(2025, 3, 11, 23, 59, 59, 999999, tzinfo=UTC),
    )
    assert Filters().time_range(KIRITIMATI) == (None, None)
    assert Filters().is_any and not Filters(content_type="image").is_any


def test_a_day_with_a_clock_change_is_23_hours_long() -> None:
    since, until = Filters(from_day="2025-03-09", to_day="2025-03-09").time_range(NEW_YORK)

    assert since == datetime(2025, 3, 9, 5, 0, tzinfo=UTC)  # EST midnight
    assert until == datetime(2025, 3, 10, 3, 59, 59, 999999, tzinfo=UTC)  # EDT midnight


@pytest.mark.parametrize(
    ("filters", "key"),
    [
        (Filters(from_day="11/03/2025"), "search.bad_date"),
        (Filters(to_day="2025-02-30"), "search.bad_date"),
        (Filters(from_day="2025-03-12", to_day="2025-03-11"), "search.bad_range"),
    ],
)
def test_dates_no_date_input_would_give_are_refused(filters: Filters, key: str) -> None:
    with pytest.raises(BadFilter) as refused:
        filters.time_range(None)
    assert refused.value.key == key


def test_only_the_offered_types_are_accepted() -> None:
    assert Filters(content_type="image").checked_type() == "image"
    assert Filters().checked_type() == ""
    with pytest.raises(BadFilter):
        Filters(content_type="system").checked_type()
