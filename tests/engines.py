"""The real Redis, PostgreSQL and Cassandra servers, started once per test session.

``scripts/servers.py`` starts them on loopback (reusing ones already running, e.g. from
``scripts/servers.sh start``); the session stops the ones it started, unless
``CHAT_KEEP_SERVERS=1`` keeps them for the next run - which then counts them as its own and
stops them (``make test`` runs two sessions this way).
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from backend.adapters.sql.engine import create_sql_engine, upgrade_schema
from scripts import servers

HANDED_OVER = servers.STATE / "started-by-tests"


class Engines:
    """The servers of one test session; each is started on first use."""

    def __init__(self) -> None:
        self.started: list[str] = []  # what this session stops at its end
        self.started_here: list[str] = []  # what it had to start (for the report)
        self.start_seconds: dict[str, float] = {}
        self._up = False

    def ensure_up(self) -> dict[str, str]:
        """Start every server at once (Cassandra's JVM boots while the others start)."""
        if not self._up:
            before = {name for name in servers.ALL if servers.READY[name]()}
            began = time.monotonic()
            self.start_seconds = servers.start(servers.ALL)
            self.start_seconds["all"] = time.monotonic() - began
            handed = HANDED_OVER.read_text().split() if HANDED_OVER.exists() else []
            self.started = [n for n in servers.ALL if n not in before or n in handed]
            self.started_here = [n for n in servers.ALL if n not in before]
            self._up = True
        return servers.urls()

    def stop_started(self) -> None:
        """Idempotent: both the service tests' and the browser tests' sessions call it."""
        if not self.started:
            return
        if os.environ.get("CHAT_KEEP_SERVERS") == "1":
            HANDED_OVER.write_text(" ".join(self.started))
            return
        servers.stop(tuple(self.started))
        HANDED_OVER.unlink(missing_ok=True)
        self.started, self._up = [], False

    @property
    def redis_url(self) -> str:
        return self.ensure_up()["REDIS_URL"]

    @property
    def postgres_url(self) -> str:
        return self.ensure_up()["DATABASE_URL"]

    @property
    def cassandra_hosts(self) -> tuple[str, ...]:
        return tuple(self.ensure_up()["CASSANDRA_HOSTS"].split(","))


# One per test process: tests/ and e2e/ share the servers it started.
ENGINES = Engines()


def _admin_url(postgres_url: str, database: str) -> str:
    return postgres_url.rsplit("/", 1)[0] + "/" + database


def fresh_postgres_database(postgres_url: str, prefix: str) -> str:
    """An empty database of its own (dropped first if a crashed run left it), migrated."""
    name = f"{prefix}_{os.getpid()}"
    admin = create_sql_engine(postgres_url).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = _admin_url(postgres_url, name)
    upgrade_schema(url)
    return url


def drop_postgres_database(postgres_url: str, url: str) -> None:
    name = url.rsplit("/", 1)[1]
    admin = create_sql_engine(postgres_url).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def empty_tables(engine: sa.Engine) -> None:
    """Delete every row, keeping the schema (cheaper than a new database per test)."""
    names = [t for t in sa.inspect(engine).get_table_names() if t != "alembic_version"]
    with engine.begin() as conn:
        conn.execute(sa.text("TRUNCATE " + ", ".join(f'"{n}"' for n in names) + " CASCADE"))


@contextmanager
def cassandra_keyspace(hosts: tuple[str, ...]) -> Iterator[str]:
    """A keyspace of this session's own, dropped at the end."""
    from backend.adapters.cassandra.schema import connect

    name = f"chat_test_{uuid.uuid4().hex[:12]}"
    session = connect(hosts, name)
    try:
        yield name
    finally:
        session.execute(f"DROP KEYSPACE IF EXISTS {name}")
        session.cluster.shutdown()
