"""Helpers for the media stories: fetching a stored file back, and services with other settings
(the ``upload`` fixture is in conftest.py)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from backend.container import Services, build_services
from backend.models import Media
from backend.settings import Settings
from tests.backend.helpers import Person
from tests.conftest import FakeClock

Upload = Callable[..., Media]


def fetch(services: Services, who: Person, media: Media, variant: str = "") -> bytes:
    download = services.media.download(who.id, media.id, variant)
    return b"".join(services.media.read(download))


def services_with(settings: Settings, clock: FakeClock, **changes: object) -> Services:
    return build_services(dataclasses.replace(settings, **changes), clock=clock)  # type: ignore[arg-type]
