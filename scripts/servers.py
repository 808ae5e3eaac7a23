"""Real Redis, PostgreSQL and Cassandra on loopback, for the tests and benchmarks of the
scale-out adapters.

    python scripts/servers.py start|stop|status|env [redis|postgres|cassandra ...]

Each server keeps its data in ``/tmp/messenger-servers-<hash of this checkout's path>/<name>``
(PostgreSQL runs as ``nobody`` when we are root, and the checkout may sit under a directory
``nobody`` cannot enter, such as /root) and listens on a non-default loopback port, so it never
meets a system-wide instance. ``start`` reuses a server that
already answers and waits for a new one to be ready; ``stop`` ends only the process whose pid
it recorded. Installing the programs is ``scripts/servers.sh install`` (called by
``scripts/bootstrap.sh --dev``). Standard library only: the pytest fixtures import this module.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
_DEFAULT_STATE = Path(tempfile.gettempdir()) / (
    "messenger-servers-" + hashlib.sha256(str(REPO).encode()).hexdigest()[:8]
)
STATE = Path(os.environ.get("CHAT_SERVERS_DIR", _DEFAULT_STATE))
HOST = "127.0.0.1"
REDIS_PORT = int(os.environ.get("CHAT_TEST_REDIS_PORT", "56379"))
POSTGRES_PORT = int(os.environ.get("CHAT_TEST_POSTGRES_PORT", "55432"))
CASSANDRA_PORT = int(os.environ.get("CHAT_TEST_CASSANDRA_PORT", "59042"))
CASSANDRA_STORAGE_PORT = int(os.environ.get("CHAT_TEST_CASSANDRA_STORAGE_PORT", "57000"))
CASSANDRA_LIB = REPO / "scripts" / "cassandra" / "lib"
# PostgreSQL refuses to run as root; when we are root the cluster belongs to this user.
POSTGRES_OS_USER = "nobody"
ALL = ("redis", "postgres", "cassandra")


def urls() -> dict[str, str]:
    """The settings (environment variables) that point the product at these servers."""
    return {
        "REDIS_URL": f"redis://{HOST}:{REDIS_PORT}/0",
        "DATABASE_URL": f"postgresql://postgres@{HOST}:{POSTGRES_PORT}/postgres",
        "CASSANDRA_HOSTS": f"{HOST}:{CASSANDRA_PORT}",
    }


# --- small helpers -------------------------------------------------------------------------


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((HOST, port)) == 0


def _wait_port_free(port: int, timeout: float = 90) -> None:
    """Wait until ``port`` can be bound: connections that the last node on it closed linger
    in TIME_WAIT for up to a minute, and Cassandra binds without SO_REUSEADDR."""
    deadline = time.monotonic() + timeout
    while True:
        with socket.socket() as s:
            try:
                s.bind((HOST, port))
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise
        time.sleep(1)


def _pid_alive(pid_file: Path) -> int | None:
    try:
        pid = int(pid_file.read_text().split()[0])
        os.kill(pid, 0)
        return pid
    except (OSError, ValueError, IndexError):
        return None


def _wait(what: str, ready: Callable[[], bool], timeout: float, alive: Callable[[], bool]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():
            return
        if not alive():
            raise RuntimeError(f"{what} exited during start-up; see its log under {STATE}")
        time.sleep(0.25)
    raise TimeoutError(f"{what} was not ready within {timeout:.0f}s; see its log under {STATE}")


def _redis_ping() -> bool:
    try:
        with socket.create_connection((HOST, REDIS_PORT), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _which(name: str, *extra_dirs: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    for pattern in extra_dirs:
        for candidate in sorted(glob.glob(pattern), reverse=True):
            if os.access(candidate, os.X_OK):
                return candidate
    raise FileNotFoundError(f"{name} is not installed: run scripts/servers.sh install")


# --- Redis ---------------------------------------------------------------------------------


def start_redis() -> None:
    if _redis_ping():
        return
    home = STATE / "redis"
    home.mkdir(parents=True, exist_ok=True)
    server = _which("redis-server")
    # No persistence: the tests own every key, and saving would only cost disk time.
    subprocess.run(
        [
            server,
            "--bind", HOST, "--port", str(REDIS_PORT), "--daemonize", "yes",
            "--dir", str(home), "--pidfile", str(home / "redis.pid"),
            "--logfile", str(home / "redis.log"), "--save", "", "--appendonly", "no",
        ],
        check=True,
    )  # fmt: skip
    _wait("redis", _redis_ping, 20, lambda: True)


def stop_redis() -> None:
    _stop_pid(STATE / "redis" / "redis.pid")


# --- PostgreSQL ----------------------------------------------------------------------------


def _pg_bin(name: str) -> str:
    return _which(name, f"/usr/lib/postgresql/*/bin/{name}")


def _as_postgres_user(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", POSTGRES_OS_USER, "--", *cmd] if os.geteuid() == 0 else cmd


def _pg_ready() -> bool:
    result = subprocess.run(
        [_pg_bin("pg_isready"), "-q", "-h", HOST, "-p", str(POSTGRES_PORT)], check=False
    )
    return result.returncode == 0


def start_postgres() -> None:
    if _port_open(POSTGRES_PORT) and _pg_ready():
        return
    home = STATE / "postgres"
    data = home / "data"
    home.mkdir(parents=True, exist_ok=True)
    STATE.chmod(0o755)  # (mkdtemp-like umasks would keep nobody out)
    if os.geteuid() == 0:
        pw = pwd.getpwnam(POSTGRES_OS_USER)
        os.chown(home, pw.pw_uid, pw.pw_gid)
    if not (data / "PG_VERSION").exists():
        # Trust on loopback only: a throwaway test cluster. C.UTF-8 so text sorts by code point,
        # as it does on SQLite (message ids are compared as text).
        subprocess.run(
            _as_postgres_user(
                [
                    _pg_bin("initdb"), "-D", str(data), "-U", "postgres", "-E", "UTF8",
                    "--locale=C.UTF-8", "--auth=trust", "--no-sync",
                ]
            ),
            check=True, stdout=subprocess.DEVNULL, cwd=home,
        )  # fmt: skip
    # fsync off: nothing here must survive a power cut, and the 2-core machine is shared.
    options = (
        f"-h {HOST} -p {POSTGRES_PORT} -k '' -c fsync=off -c synchronous_commit=off "
        "-c full_page_writes=off -c max_connections=200 -c shared_buffers=128MB"
    )
    subprocess.run(
        _as_postgres_user(
            [_pg_bin("pg_ctl"), "-D", str(data), "-l", str(home / "postgres.log"),
             "-o", options, "-w", "-t", "60", "start"]
        ),
        check=True, stdout=subprocess.DEVNULL, cwd=home,
    )  # fmt: skip
    _wait("postgres", _pg_ready, 60, lambda: (data / "postmaster.pid").exists())


def stop_postgres() -> None:
    data = STATE / "postgres" / "data"
    if (data / "postmaster.pid").exists():
        subprocess.run(
            _as_postgres_user([_pg_bin("pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]),
            check=False, stdout=subprocess.DEVNULL, cwd=data.parent,
        )  # fmt: skip


# --- Cassandra -----------------------------------------------------------------------------

# What Cassandra's own conf/jvm17-server.options opens up for Java 17.
_JAVA17_FLAGS = [
    *(
        f"--add-exports={m}=ALL-UNNAMED"
        for m in (
            "java.base/jdk.internal.misc", "java.base/jdk.internal.ref", "java.base/sun.nio.ch",
            "java.management.rmi/com.sun.jmx.remote.internal.rmi", "java.rmi/sun.rmi.registry",
            "java.rmi/sun.rmi.server", "java.sql/java.sql", "java.base/java.lang.ref",
            "jdk.unsupported/sun.misc",
        )
    ),
    *(
        f"--add-opens={m}=ALL-UNNAMED"
        for m in (
            "java.base/java.lang.module", "java.base/jdk.internal.loader",
            "java.base/jdk.internal.ref", "java.base/jdk.internal.reflect",
            "java.base/jdk.internal.math", "java.base/jdk.internal.module",
            "java.base/jdk.internal.util.jar", "jdk.management/com.sun.management.internal",
            "java.base/sun.nio.ch", "java.base/java.io", "java.base/java.nio",
            "java.base/java.util.concurrent", "java.base/java.util",
            "java.base/java.util.concurrent.atomic", "java.base/java.lang",
            "java.base/java.math", "java.base/java.lang.reflect", "java.base/java.net",
        )
    ),
]  # fmt: skip

_CASSANDRA_YAML = """\
# Generated by scripts/servers.py: one test node on loopback.
cluster_name: messenger-test
num_tokens: 1
initial_token: 0
partitioner: org.apache.cassandra.dht.Murmur3Partitioner
endpoint_snitch: SimpleSnitch
seed_provider:
  - class_name: org.apache.cassandra.locator.SimpleSeedProvider
    parameters:
      - seeds: "{host}:{storage_port}"
listen_address: {host}
rpc_address: {host}
storage_port: {storage_port}
native_transport_port: {native_port}
start_native_transport: true
data_file_directories: [{home}/data]
commitlog_directory: {home}/commitlog
saved_caches_directory: {home}/saved_caches
hints_directory: {home}/hints
cdc_raw_directory: {home}/cdc_raw
commitlog_sync: periodic
commitlog_sync_period: 10000ms
# Tests and benchmarks truncate and drop freely: no snapshots of what they throw away.
auto_snapshot: false
memtable_heap_space: 256MiB
concurrent_reads: 8
concurrent_writes: 8
concurrent_counter_writes: 4
compaction_throughput: 64MiB/s
authenticator: AllowAllAuthenticator
authorizer: AllowAllAuthorizer
"""

_LOGBACK = """\
<configuration>
  <appender name="FILE" class="ch.qos.logback.core.FileAppender">
    <file>{home}/system.log</file>
    <encoder><pattern>%d %-5level [%thread] %logger{{20}} %msg%n</pattern></encoder>
  </appender>
  <root level="INFO"><appender-ref ref="FILE"/></root>
</configuration>
"""


def _cassandra_ready() -> bool:
    """Whether the node speaks CQL: a native-protocol OPTIONS frame answered by SUPPORTED."""
    try:
        with socket.create_connection((HOST, CASSANDRA_PORT), timeout=2) as s:
            s.sendall(bytes([0x04, 0, 0, 1, 0x05, 0, 0, 0, 0]))  # v4, stream 1, OPTIONS
            header = s.recv(9)
            return len(header) == 9 and header[4] == 0x06  # SUPPORTED
    except OSError:
        return False


def start_cassandra(wait: bool = True) -> None:
    if _cassandra_ready():
        return
    home = STATE / "cassandra"
    pid_file = home / "cassandra.pid"
    system_log = home / "system.log"
    if not _pid_alive(pid_file):
        jars = sorted(CASSANDRA_LIB.glob("*.jar"))
        if not jars:
            raise FileNotFoundError("Cassandra's jars are missing: run scripts/servers.sh install")
        home.mkdir(parents=True, exist_ok=True)
        (home / "cassandra.yaml").write_text(
            _CASSANDRA_YAML.format(
                host=HOST, home=home, native_port=CASSANDRA_PORT,
                storage_port=CASSANDRA_STORAGE_PORT,
            )
        )  # fmt: skip
        (home / "logback.xml").write_text(_LOGBACK.format(home=home))
        system_log.unlink(missing_ok=True)  # so a failure below is this start's, not an old one
        jamm = next(j for j in jars if j.name.startswith("jamm-"))
        _wait_port_free(CASSANDRA_PORT)
        _wait_port_free(CASSANDRA_STORAGE_PORT)
        heap = os.environ.get("CHAT_TEST_CASSANDRA_HEAP", "1G")
        command = [
            _which("java"),
            f"-Xms{heap}", f"-Xmx{heap}", "-Xss512k", "-XX:+UseG1GC",
            "-XX:+ExitOnOutOfMemoryError",
            f"-javaagent:{jamm}", *_JAVA17_FLAGS,
            "-Djava.net.preferIPv4Stack=true",
            f"-Dcassandra.config=file://{home}/cassandra.yaml",
            f"-Dcassandra.storagedir={home}", f"-Dcassandra.logdir={home}",
            f"-Dlogback.configurationFile={home}/logback.xml",
            "-Dcassandra-foreground=yes",
            # One node: no ring to settle, nobody to gossip with.
            "-Dcassandra.skip_wait_for_gossip_to_settle=0", "-Dcassandra.ring_delay_ms=0",
            "-Dcassandra.initial_token=0",
            "-cp", ":".join(str(j) for j in jars),
            "org.apache.cassandra.service.CassandraDaemon",
        ]  # fmt: skip
        with open(home / "stdout.log", "ab") as log:
            process = subprocess.Popen(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # outlives the test session that started it
            )
        pid_file.write_text(str(process.pid))
    if not wait:
        return
    timeout = float(os.environ.get("CHAT_TEST_CASSANDRA_START_TIMEOUT", "240"))

    def alive() -> bool:
        # After a failed start the JVM logs why but may linger: don't wait out the timeout.
        failed = system_log.exists() and "Exception encountered during startup" in (
            system_log.read_text(errors="replace")
        )
        if failed:
            stop_cassandra()
        return not failed and _pid_alive(pid_file) is not None

    _wait("cassandra", _cassandra_ready, timeout, alive)


def stop_cassandra() -> None:
    # A test node: if its orderly shutdown dawdles, the commit log makes a kill safe enough.
    _stop_pid(STATE / "cassandra" / "cassandra.pid", timeout=15)


# --- all together --------------------------------------------------------------------------


def _stop_pid(pid_file: Path, timeout: float = 20) -> None:
    pid = _pid_alive(pid_file)
    if pid is None:
        return
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and _pid_alive(pid_file):
        time.sleep(0.2)
    if _pid_alive(pid_file):
        os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(FileNotFoundError):
        pid_file.unlink()


STARTERS: dict[str, Callable[[], None]] = {
    "redis": start_redis,
    "postgres": start_postgres,
    "cassandra": start_cassandra,
}
STOPPERS: dict[str, Callable[[], None]] = {
    "redis": stop_redis,
    "postgres": stop_postgres,
    "cassandra": stop_cassandra,
}
READY: dict[str, Callable[[], bool]] = {
    "redis": _redis_ping,
    "postgres": lambda: _port_open(POSTGRES_PORT) and _pg_ready(),
    "cassandra": _cassandra_ready,
}


def start(names: tuple[str, ...] = ALL) -> dict[str, float]:
    """Start (or reuse) the named servers; how long each took to be ready, in seconds.

    Cassandra, the slow one, is launched first and awaited last.
    """
    took: dict[str, float] = {}
    began = time.monotonic()
    if "cassandra" in names:
        start_cassandra(wait=False)  # the JVM boots while the others start
    for name in names:
        t0 = time.monotonic()
        STARTERS[name]()
        took[name] = time.monotonic() - (began if name == "cassandra" else t0)
    return took


def stop(names: tuple[str, ...] = ALL) -> None:
    for name in names:
        STOPPERS[name]()


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"start", "stop", "status", "env"}:
        print(__doc__)
        return 2
    names = tuple(argv[1:]) or ALL
    unknown = [n for n in names if n not in STARTERS]
    if unknown:
        print(f"unknown server(s): {', '.join(unknown)}; choose from {', '.join(ALL)}")
        return 2
    if argv[0] == "start":
        for name, seconds in start(names).items():
            print(f"{name}: ready ({seconds:.1f}s)")
    elif argv[0] == "stop":
        stop(names)
    elif argv[0] == "status":
        for name in names:
            print(f"{name}: {'ready' if READY[name]() else 'down'}")
    env = urls()
    if argv[0] in {"start", "env"}:
        wanted = {"redis": "REDIS_URL", "postgres": "DATABASE_URL", "cassandra": "CASSANDRA_HOSTS"}
        for name in names:
            print(f"export {wanted[name]}={env[wanted[name]]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
