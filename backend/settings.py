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
    # Largest REST request body (media uploads have their own, larger caps): a 64 KiB message
    # JSON-escaped fits many times over.
    max_request_bytes: int = 1024 * 1024
    # A socket's frames other than sends (typing, read, sync, ping): a burst, then a pace.
    socket_frames_per_minute: int = 1200
    socket_frame_burst: int = 120
    # How long a quiet tab or socket goes without its session being checked again (expiry, or
    # revocation by another process); sign-out in this process acts at once through the bus.
    session_recheck_seconds: float = 60.0
    # A connection that sends no heartbeat for this long counts as gone (clients beat every
    # third of it), so a closed laptop shows "last seen" within about this time.
    presence_ttl_seconds: float = 30.0
    # Media (issue #6): blobs go to S3 when a bucket is named, else under data_dir/media.
    s3_bucket: str = ""
    s3_endpoint_url: str = ""  # an S3-compatible server (MinIO, moto); "" = AWS itself
    s3_region: str = "us-east-1"
    max_document_bytes: int = 100 * 1024 * 1024
    max_video_bytes: int = 100 * 1024 * 1024
    max_image_bytes: int = 25 * 1024 * 1024
    max_voice_bytes: int = 16 * 1024 * 1024
    # Decoding a 50 MP image takes ~150 MB; anything larger is refused before it is decoded.
    max_image_pixels: int = 50_000_000
    media_quota_bytes: int = 2 * 1024 * 1024 * 1024
    # How long a presigned S3 link stays good: long enough to load, too short to pass around.
    media_url_ttl: timedelta = timedelta(minutes=5)
    # An upload never sent in a message is deleted after this (blobs and record), and stops
    # counting against its owner's quota; the sweeper looks every ``media_sweep_seconds``.
    media_unsent_grace: timedelta = timedelta(hours=24)
    media_sweep_seconds: float = 600.0
    # Search: how many of the newest messages with the words a query looks at before it asks
    # the index for the viewer's chats alone (see adapters/sql/search*.py).
    search_candidates: int = 2000
    # Scale-out engines; each one left empty keeps its embedded twin (SQL messages, in-process
    # bus and rate limits).
    redis_url: str = ""
    cassandra_hosts: tuple[str, ...] = ()  # "host" or "host:port"
    cassandra_keyspace: str = "messenger"
    cassandra_replication_factor: int = 1

    @property
    def media_dir(self) -> Path:
        return self.data_dir / "media"

    @property
    def max_upload_bytes(self) -> int:
        """The hard cap on any upload's body, whatever it turns out to be."""
        return max(
            self.max_document_bytes,
            self.max_video_bytes,
            self.max_image_bytes,
            self.max_voice_bytes,
        )

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
            presence_ttl_seconds=float(
                env.get("CHAT_PRESENCE_TTL_SECONDS", defaults.presence_ttl_seconds)
            ),
            sends_per_user=int(env.get("CHAT_SENDS_PER_USER", defaults.sends_per_user)),
            sends_per_ip=int(env.get("CHAT_SENDS_PER_IP", defaults.sends_per_ip)),
            s3_bucket=env.get("S3_BUCKET", ""),
            s3_endpoint_url=env.get("S3_ENDPOINT_URL", ""),
            s3_region=env.get("AWS_DEFAULT_REGION", env.get("AWS_REGION", defaults.s3_region)),
            media_quota_bytes=int(env.get("CHAT_MEDIA_QUOTA_BYTES", defaults.media_quota_bytes)),
            max_document_bytes=int(env.get("CHAT_MAX_DOCUMENT_BYTES", defaults.max_document_bytes)),
            media_unsent_grace=timedelta(
                seconds=float(
                    env.get(
                        "CHAT_MEDIA_UNSENT_GRACE_SECONDS",
                        defaults.media_unsent_grace.total_seconds(),
                    )
                )
            ),
            media_sweep_seconds=float(
                env.get("CHAT_MEDIA_SWEEP_SECONDS", defaults.media_sweep_seconds)
            ),
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
