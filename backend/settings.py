"""One Settings object, read from the environment once, from which everything is built."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path


@dataclasses.dataclass(frozen=True)
class Settings:
    """Everything configurable about a deployment.

    Adapters are chosen by these values alone: with nothing set, the whole product runs in one
    process on one data directory.
    """

    data_dir: Path = Path("data")
    database_url: str = ""
    session_ttl: timedelta = timedelta(days=30)
    max_message_bytes: int = 64 * 1024
    page_size: int = 50
    # argon2id cost. The defaults follow argon2-cffi's RFC 9106 "low memory" profile; tests lower
    # them because they register hundreds of users and hashing cost is not what they check.
    password_time_cost: int = 3
    password_memory_kib: int = 64 * 1024
    login_failures_per_user: int = 5
    login_failures_per_ip: int = 30
    login_window: timedelta = timedelta(minutes=15)
    registrations_per_ip: int = 20
    registration_window: timedelta = timedelta(hours=1)
    # Sends: generous for people, a brake for runaway bots and scripts.
    sends_per_user: int = 300
    sends_per_ip: int = 3000
    send_window: timedelta = timedelta(minutes=1)
    # Origins (scheme://host[:port]) whose pages may open the API's WebSocket, besides the
    # app's own origin; "*" allows any (for native clients behind a gateway that checks).
    allowed_origins: tuple[str, ...] = ()
    max_frame_bytes: int = 128 * 1024
    # How long a quiet tab or socket goes without its session being checked again (expiry, or
    # revocation by another process); sign-out in this process acts at once through the bus.
    session_recheck_seconds: float = 60.0
    # Scale-out engines; each one left empty keeps its embedded twin (SQL messages, in-process
    # bus and rate limits).
    redis_url: str = ""
    cassandra_hosts: tuple[str, ...] = ()  # "host" or "host:port"
    cassandra_keyspace: str = "messenger"
    cassandra_replication_factor: int = 1

    @property
    def resolved_database_url(self) -> str:
        """The SQL URL, defaulting to a SQLite file in the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'chat.db').resolve()}"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read the settings from environment variables (``os.environ`` by default)."""
        env = os.environ if env is None else env
        defaults = cls()
        return cls(
            data_dir=Path(env.get("CHAT_DATA_DIR", str(defaults.data_dir))),
            database_url=env.get("DATABASE_URL", ""),
            session_ttl=timedelta(
                seconds=int(
                    env.get("CHAT_SESSION_TTL_SECONDS", defaults.session_ttl.total_seconds())
                )
            ),
            max_message_bytes=int(env.get("CHAT_MAX_MESSAGE_BYTES", defaults.max_message_bytes)),
            password_time_cost=int(env.get("CHAT_PASSWORD_TIME_COST", defaults.password_time_cost)),
            password_memory_kib=int(
                env.get("CHAT_PASSWORD_MEMORY_KIB", defaults.password_memory_kib)
            ),
            registrations_per_ip=int(
                env.get("CHAT_REGISTRATIONS_PER_IP", defaults.registrations_per_ip)
            ),
            login_failures_per_ip=int(
                env.get("CHAT_LOGIN_FAILURES_PER_IP", defaults.login_failures_per_ip)
            ),
            session_recheck_seconds=float(
                env.get("CHAT_SESSION_RECHECK_SECONDS", defaults.session_recheck_seconds)
            ),
            sends_per_user=int(env.get("CHAT_SENDS_PER_USER", defaults.sends_per_user)),
            sends_per_ip=int(env.get("CHAT_SENDS_PER_IP", defaults.sends_per_ip)),
            allowed_origins=tuple(
                o.strip().rstrip("/")
                for o in env.get("CHAT_ALLOWED_ORIGINS", "").split(",")
                if o.strip()
            ),
            redis_url=env.get("REDIS_URL", ""),
            cassandra_hosts=tuple(
                h.strip() for h in env.get("CASSANDRA_HOSTS", "").split(",") if h.strip()
            ),
            cassandra_keyspace=env.get("CASSANDRA_KEYSPACE", defaults.cassandra_keyspace),
            cassandra_replication_factor=int(
                env.get("CASSANDRA_REPLICATION_FACTOR", defaults.cassandra_replication_factor)
            ),
        )
