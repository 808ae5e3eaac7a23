"""What an idle WebSocket costs each ASGI server on its own: a bare app that accepts a socket
and waits, served by granian (what `reflex run` uses), uvicorn + websockets and uvicorn +
wsproto (what scripts/serve.py uses); the server's resident memory with N sockets open, minus
before, per socket. The product's own figure (the real app, /ws) is in ws_throughput.py.

    python bench/server_memory.py --sockets 1000 5000
    python bench/server_memory.py --arena-max 2     # glibc MALLOC_ARENA_MAX for the server
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import websockets

BARE_APP = """
async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
    elif scope["type"] == "websocket":
        await receive()
        await send({"type": "websocket.accept"})
        while (await receive())["type"] != "websocket.disconnect":
            pass
    else:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})
"""

SERVERS = {
    "granian": ["-m", "granian", "--interface", "asgi", "--workers", "1", "--port"],
    "uvicorn+websockets": ["-m", "uvicorn", "--ws", "websockets", "--port"],
    "uvicorn+wsproto": ["-m", "uvicorn", "--ws", "wsproto", "--port"],
}


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss(pid: int) -> int:
    root = psutil.Process(pid)
    return sum(p.memory_info().rss for p in [root, *root.children(recursive=True)])


async def per_socket(port: int, pid: int, sockets: int) -> float:
    url = f"ws://127.0.0.1:{port}/"
    warm = [await websockets.connect(url) for _ in range(50)]  # first-use allocations
    for ws in warm:
        await ws.close()
    await asyncio.sleep(1)
    before = rss(pid)
    opened = [await websockets.connect(url) for _ in range(sockets)]
    await asyncio.sleep(2)
    after = rss(pid)
    for ws in opened:
        await ws.close()
    return (after - before) / sockets / 1024


def measure(server: str, sockets: int, arena_max: int | None) -> float:
    """One fresh server per figure: an earlier run's freed memory would flatter the next."""
    workdir = Path(tempfile.mkdtemp(prefix="bench-srvmem-"))
    (workdir / "bare.py").write_text(BARE_APP)
    port = free_port()
    env = dict(os.environ)
    if arena_max:
        env["MALLOC_ARENA_MAX"] = str(arena_max)
    process = subprocess.Popen(
        [sys.executable, *SERVERS[server], str(port), "bare:app"],
        cwd=workdir,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while not any(
            c.status == psutil.CONN_LISTEN and c.laddr.port == port
            for c in psutil.net_connections(kind="tcp")
        ):
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(f"{server} did not start")
            time.sleep(0.2)
        return asyncio.run(per_socket(port, process.pid, sockets))
    finally:
        process.terminate()
        process.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sockets", type=int, nargs="+", default=[1000, 5000])
    parser.add_argument("--servers", nargs="+", default=list(SERVERS), choices=list(SERVERS))
    parser.add_argument("--arena-max", type=int, help="MALLOC_ARENA_MAX for the server")
    args = parser.parse_args()
    arenas = f"MALLOC_ARENA_MAX={args.arena_max}" if args.arena_max else "default malloc arenas"
    print(f"\nBare ASGI app, one idle WebSocket per connection, {arenas}")
    for server in args.servers:
        figures = "   ".join(
            f"{n} sockets {kib:6.1f} KiB/socket"
            for n, kib in ((n, measure(server, n, args.arena_max)) for n in args.sockets)
        )
        print(f"{server:<20} {figures}")


if __name__ == "__main__":
    main()
