"""Serve the production build on one port: the compiled frontend, Reflex's /_event socket, the
REST API and /ws, in one process under uvicorn with wsproto.

Why not `reflex run --env prod`: it serves through granian, whose WebSocket layer keeps ~130
KiB of buffers per open socket and exposes no setting for them (a bare accept-and-wait ASGI app
costs ~140 KiB per idle socket under granian, ~110 KiB under uvicorn's `websockets`
implementation, ~17 KiB under uvicorn + wsproto: `bench/server_memory.py`). So this script does
what `reflex run --env prod` does, with the server swapped:

1. `reflex export --frontend-only --no-zip` builds the static frontend into `.web/build/client`
   with its URLs pointing at this port (Reflex reads the ports from REFLEX_*_PORT);
2. uvicorn serves Reflex's ASGI app with the compiled frontend mounted, exactly the app
   `reflex run --env prod` would have built (the `__REFLEX_*` switches are the ones Reflex 0.10
   sets for its own backend process; pinned in requirements.txt).

    python scripts/serve.py --port 3000 [--no-build]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
APP = "chat_web.chat_web:app"  # an rx.App; calling it returns the ASGI app (a factory)


def build_frontend(port: int) -> None:
    """Compile the pages and build the static frontend for a backend on ``port``."""
    env = {**os.environ, "REFLEX_FRONTEND_PORT": str(port), "REFLEX_BACKEND_PORT": str(port)}
    lock = REPO / "reflex.lock" / "package.json"
    committed = lock.read_bytes() if lock.exists() else b""
    subprocess.run(
        ["reflex", "export", "--frontend-only", "--no-zip", "--env", "prod"],
        cwd=REPO,
        env=env,
        check=True,
    )
    # `reflex export` rewrites the committed lock file as one line with the same content;
    # keep the committed formatting so a run leaves the working tree clean.
    if committed and lock.exists() and json.loads(lock.read_bytes()) == json.loads(committed):
        lock.write_bytes(committed)


def serve(host: str, port: int) -> None:
    import uvicorn

    os.environ.update(
        {
            "REFLEX_ENV_MODE": "prod",
            "REFLEX_FRONTEND_PORT": str(port),
            "REFLEX_BACKEND_PORT": str(port),
            # What `reflex run --env prod` tells its backend process: the pages are compiled
            # already; serve the built frontend from the backend's own port.
            "__REFLEX_SKIP_COMPILE": "true",
            "__REFLEX_MOUNT_FRONTEND_COMPILED_APP": "true",
        }
    )
    sys.path.insert(0, str(REPO))
    print(f"App running at: http://localhost:{port}", flush=True)
    uvicorn.run(
        APP,
        factory=True,
        host=host,
        port=port,
        # wsproto: ~17 KiB per idle socket where the `websockets` implementation keeps ~110.
        ws="wsproto",
        # Compression would keep a zlib pair (~300 KiB) per active socket and cost CPU on every
        # frame; the frames here are small JSON.
        ws_per_message_deflate=False,
        http="httptools",
        lifespan="on",
        access_log=False,
        log_level="warning",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "3000")))
    parser.add_argument("--host", default="0.0.0.0")
    parser.add_argument("--no-build", action="store_true", help="serve the last build as is")
    args = parser.parse_args()
    os.chdir(REPO)
    if not args.no_build:
        build_frontend(args.port)
    serve(args.host, args.port)


if __name__ == "__main__":
    main()
