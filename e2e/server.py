"""Starting the real app (production build) on a free port, for browser tests and benchmarks."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Voice notes: a fake microphone (a beeping tone) that needs no permission prompt, and
    # audio that may play without a click (tests press play through the DOM).
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    "--autoplay-policy=no-user-gesture-required",
]
TEST_ENV = {
    # Cheap password hashing: the server under test signs up many users; cost is not tested.
    "CHAT_PASSWORD_TIME_COST": "1",
    "CHAT_PASSWORD_MEMORY_KIB": "64",
    # Every test user signs up and sends from 127.0.0.1, far faster than people do.
    "CHAT_REGISTRATIONS_PER_IP": "100000",
    "CHAT_LOGIN_FAILURES_PER_IP": "100000",  # the fuzzer tries many wrong sign-ins
    # Sessions revoked behind the app's back are noticed within seconds, not a minute.
    "CHAT_SESSION_RECHECK_SECONDS": "3",
    # A closed browser shows "last seen" within seconds (tabs beat every third of this).
    "CHAT_PRESENCE_TTL_SECONDS": "4",
    "CHAT_SENDS_PER_USER": "1000000",
    "CHAT_SENDS_PER_IP": "1000000",
    # Uploads never sent are swept after 20 s (a day in production), so a test can watch the
    # app's sweeper do it; every other test sends its uploads within moments.
    "CHAT_MEDIA_UNSENT_GRACE_SECONDS": "20",
    "CHAT_MEDIA_SWEEP_SECONDS": "1",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_ready(url: str, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the app exited early with code {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"the app did not answer {url} within {timeout:.0f}s")


@contextlib.contextmanager
def running_app(data_dir: Path, log_path: Path, timeout: float = 300) -> Iterator[str]:
    """Run the production build as ``make run`` does (scripts/serve.py), with its data in
    ``data_dir``; yield its base URL."""
    port = free_port()
    env = {**os.environ, **TEST_ENV, "CHAT_DATA_DIR": str(data_dir)}
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, str(REPO / "scripts" / "serve.py"), "--port", str(port)],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        base = f"http://localhost:{port}"
        try:
            _wait_ready(f"{base}/ping", process, timeout)
            _wait_ready(f"{base}/login", process, timeout)
            yield base
        except BaseException:
            print(log_path.read_text(errors="replace")[-4000:])
            raise
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


class _AppProcess:
    """A server process of the tests' own, in a process group, that a test can stop or crash."""

    _process: subprocess.Popen[bytes] | None = None

    def kill(self) -> None:
        """As a crash would: SIGKILL, no orderly shutdown, sockets dropped."""
        if self._process is not None and self._process.poll() is None:
            os.killpg(self._process.pid, signal.SIGKILL)
            self._process.wait(10)
        self._process = None

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            os.killpg(self._process.pid, signal.SIGTERM)
            try:
                self._process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self._process.pid, signal.SIGKILL)
        self._process = None


class Backend(_AppProcess):
    """One Reflex backend process (``--backend-only``: the API needs no frontend build)."""

    def __init__(self, name: str, env: dict[str, str], data_dir: Path, log: Path) -> None:
        self.name, self.env, self.data_dir, self.log = name, env, data_dir, log
        self.port = free_port()
        self.url = f"http://localhost:{self.port}"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 180) -> None:
        env = {**os.environ, **TEST_ENV, **self.env, "CHAT_DATA_DIR": str(self.data_dir)}
        with open(self.log, "ab") as log:
            self._process = subprocess.Popen(
                ["reflex", "run", "--env", "prod", "--backend-only",
                 "--backend-port", str(self.port)],
                cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"backend {self.name} exited: {self.log.read_text()[-3000:]}")
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(f"{self.url}/ping", timeout=2) as response,
            ):
                if response.status == 200:
                    return
            time.sleep(0.5)
        raise TimeoutError(f"backend {self.name} did not start: {self.log.read_text()[-3000:]}")


class ServedApp(_AppProcess):
    """The production build served as ``make run`` serves it (``scripts/serve.py``), on a port
    of its own that it keeps across restarts, so a test can crash it and bring it back.

    Reflex bakes the backend's URL (with its port) into the frontend it builds, so each app is
    built for its own port into a directory of its own (``REFLEX_WEB_WORKDIR``): two apps never
    share, or overwrite, one ``.web``. The first start builds; restarts serve that build.
    """

    def __init__(self, name: str, env: dict[str, str], data_dir: Path, log: Path) -> None:
        self.name, self.env, self.data_dir, self.log = name, env, data_dir, log
        self.web_dir = data_dir.parent / f"web-{name}"
        self.port = free_port()
        self.url = f"http://localhost:{self.port}"
        self._process: subprocess.Popen[bytes] | None = None
        self._built = False

    def start(self, timeout: float = 300) -> None:
        env = {
            **os.environ,
            **TEST_ENV,
            **self.env,
            "CHAT_DATA_DIR": str(self.data_dir),
            "REFLEX_WEB_WORKDIR": str(self.web_dir),
        }
        command = [sys.executable, str(REPO / "scripts" / "serve.py"), "--port", str(self.port)]
        with open(self.log, "ab") as log:
            self._process = subprocess.Popen(
                command + (["--no-build"] if self._built else []),
                cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        try:
            _wait_ready(f"{self.url}/ping", self._process, timeout)
            _wait_ready(f"{self.url}/login", self._process, timeout)
        except BaseException:
            print(self.log.read_text(errors="replace")[-4000:])
            raise
        self._built = True
