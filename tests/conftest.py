"""Shared fixtures: real services on a real SQLite file in a fresh directory per test."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from backend.adapters.sql.engine import upgrade_schema
from backend.container import Services, build_services
from backend.settings import Settings

# Hashing cost is not what these tests check; the cheapest argon2id keeps hundreds of sign-ups fast.
FAST_HASH = {"password_time_cost": 1, "password_memory_kib": 64}
# The suite signs up far more people from one (empty) IP than the product allows an hour.
MANY_SIGN_UPS = {"registrations_per_ip": 100_000}


class FakeClock:
    """A clock the test moves by hand, for expiry and rate-limit windows."""

    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One database with every migration applied; each test copies it (cheaper than migrating)."""
    path = tmp_path_factory.mktemp("template") / "chat.db"
    upgrade_schema(f"sqlite:///{path}")
    return path


@pytest.fixture
def settings(tmp_path: Path, migrated_template: Path) -> Settings:
    shutil.copy(migrated_template, tmp_path / "chat.db")
    return Settings(data_dir=tmp_path, **FAST_HASH, **MANY_SIGN_UPS)  # type: ignore[arg-type]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def services(settings: Settings, clock: FakeClock) -> Iterator[Services]:
    yield build_services(settings, clock=clock)


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """A real S3-compatible server on loopback for the whole session, with test credentials in
    the environment (boto3 reads them there, as it would in production)."""
    from tests.s3_server import CREDENTIALS, running_s3

    with pytest.MonkeyPatch.context() as patch:
        for name, value in CREDENTIALS.items():
            patch.setenv(name, value)
        with running_s3() as url:
            yield url
