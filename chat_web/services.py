"""The process-wide services, built once from the environment on first use."""

from __future__ import annotations

import functools

from backend.container import Services, build_services
from backend.settings import Settings


@functools.cache
def services() -> Services:
    return build_services(Settings.from_env())
