"""Shared fixtures: real services on a real SQLite file in a fresh directory per test."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis

from backend.adapters.sql.engine import create_sql_engine, upgrade_schema
from backend.container import Services, build_services
from backend.settings import Settings
from tests.engines import (
    ENGINES,
    Engines,
    cassandra_keyspace,
    drop_postgres_database,
    empty_tables,
    fresh_postgres_database,
)

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
def engines() -> Iterator[Engines]:
    """Real Redis, PostgreSQL and Cassandra, started on first use and stopped at the end."""
    yield ENGINES
    ENGINES.stop_started()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if ENGINES.start_seconds:
        took = ", ".join(f"{k} {v:.1f}s" for k, v in ENGINES.start_seconds.items())
        started = ", ".join(ENGINES.started_here) or "none (reused running servers)"
        terminalreporter.write_line(f"engine servers: started {started}; ready after {took}")


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One database with every migration applied; each test copies it (cheaper than migrating)."""
    path = tmp_path_factory.mktemp("template") / "chat.db"
    upgrade_schema(f"sqlite:///{path}")
    return path


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--engines",
        choices=("embedded", "scale"),
        default="embedded",
        help="run the service tests on SQLite + in-process (embedded, the default) or on "
        "PostgreSQL + Redis + Cassandra (scale), real servers started by the session",
    )


@pytest.fixture(scope="session")
def scale_settings(engines: Engines) -> Iterator[dict[str, object]]:
    """Settings pointing at the real servers: a database and a keyspace of this session's."""
    url = fresh_postgres_database(engines.postgres_url, "chat_services")
    with cassandra_keyspace(engines.cassandra_hosts) as keyspace:
        yield {
            "database_url": url,
            "redis_url": engines.redis_url,
            "cassandra_hosts": engines.cassandra_hosts,
            "cassandra_keyspace": keyspace,
        }
    drop_postgres_database(engines.postgres_url, url)


@pytest.fixture
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    if request.config.getoption("--engines") == "scale":
        scale: dict[str, object] = request.getfixturevalue("scale_settings")
        engine = create_sql_engine(str(scale["database_url"]))
        empty_tables(engine)  # users, chats and messages start empty, as on a fresh SQLite file
        engine.dispose()
        redis.Redis.from_url(str(scale["redis_url"])).flushdb()  # rate-limit counters
        # (Cassandra keeps its rows: every test's chats have new ids.)
        return Settings(data_dir=tmp_path, **FAST_HASH, **MANY_SIGN_UPS, **scale)  # type: ignore[arg-type]
    shutil.copy(request.getfixturevalue("migrated_template"), tmp_path / "chat.db")
    return Settings(data_dir=tmp_path, **FAST_HASH, **MANY_SIGN_UPS)  # type: ignore[arg-type]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def services(settings: Settings, clock: FakeClock) -> Iterator[Services]:
    built = build_services(settings, clock=clock)
    yield built
    close = getattr(built.bus, "close", None)  # the Redis bus holds a listener thread
    if close is not None:
        close()


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
