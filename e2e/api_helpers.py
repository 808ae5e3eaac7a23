"""Helpers for the API tests: accounts, chats and messages over real HTTP, frames over a real
WebSocket. Nothing here imitates the app; every call goes to the running server."""

from __future__ import annotations

import contextlib
import json
import re
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

PASSWORD = "correct horse battery"
RECV_TIMEOUT = 5.0

Frame = dict[str, Any]


@dataclass
class Account:
    token: str
    user: dict[str, Any]
    password: str = PASSWORD

    @property
    def id(self) -> str:
        return str(self.user["id"])

    @property
    def username(self) -> str:
        return str(self.user["username"])

    @property
    def headers(self) -> dict[str, str]:
        return auth(self.token)


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def unique_username(prefix: str = "u") -> str:
    """Lowercase, [a-z0-9_.], at most 32 characters, different every call."""
    return f"{prefix[:12]}_{uuid.uuid4().hex[:16]}"


def register(client: httpx.Client, prefix: str = "u", display_name: str = "") -> Account:
    username = unique_username(prefix)
    response = client.post(
        "/api/v1/auth/register",
        json={
            "username": username,
            "displayName": display_name or prefix.title(),
            "password": PASSWORD,
        },
    )
    assert response.status_code == 201, response.text
    body = response.json()
    return Account(token=body["token"], user=body["user"])


def login(client: httpx.Client, account: Account) -> str:
    """A second session (another device) of the same account."""
    response = client.post(
        "/api/v1/auth/login", json={"username": account.username, "password": account.password}
    )
    assert response.status_code == 200, response.text
    return str(response.json()["token"])


def open_chat(client: httpx.Client, me: Account, other: Account) -> str:
    response = client.post("/api/v1/chats", json={"participantIds": [other.id]}, headers=me.headers)
    assert response.status_code in (200, 201), response.text
    return str(response.json()["chatId"])


def text(body: str) -> dict[str, str]:
    return {"type": "text", "text": body}


def send(client: httpx.Client, me: Account, chat_id: str, body: str, temp_id: str = "") -> Frame:
    response = client.post(
        f"/api/v1/chats/{chat_id}/messages",
        json={"tempId": temp_id or uuid.uuid4().hex, "content": text(body)},
        headers=me.headers,
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def history(client: httpx.Client, me: Account, chat_id: str, **params: Any) -> list[Frame]:
    """Every message of a chat the caller is in, oldest first (walking all pages)."""
    messages: list[Frame] = []
    cursor = ""
    while True:
        response = client.get(
            f"/api/v1/chats/{chat_id}/messages",
            params={"limit": 100, "cursor": cursor, **params},
            headers=me.headers,
        )
        assert response.status_code == 200, response.text
        page = response.json()
        messages[:0] = page["messages"]
        if not page["hasMore"]:
            return messages
        cursor = page["nextCursor"]


# --- WebSocket ------------------------------------------------------------------------------


def ws_url(base_url: str, token: str | None) -> str:
    root = "ws://" + base_url.split("://", 1)[1].rstrip("/")
    return f"{root}/ws" if token is None else f"{root}/ws?token={token}"


def recv_frame(ws: ClientConnection, timeout: float = RECV_TIMEOUT) -> Frame:
    raw = ws.recv(timeout=timeout)
    frame = json.loads(raw)
    assert isinstance(frame, dict), raw
    return frame


def send_frame(ws: ClientConnection, frame: Frame) -> None:
    ws.send(json.dumps(frame))


def wait_for(
    ws: ClientConnection,
    kind: str,
    where: Callable[[Frame], bool] = lambda _f: True,
    timeout: float = RECV_TIMEOUT,
    skipped: list[Frame] | None = None,
) -> Frame:
    """The next frame of type ``kind`` matching ``where``; others are drained (and kept in
    ``skipped`` if given). Fails with what was seen if none comes within ``timeout``."""
    deadline = time.monotonic() + timeout
    seen: list[Frame] = [] if skipped is None else skipped
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"no {kind!r} frame within {timeout}s; saw {seen}")
        try:
            frame = recv_frame(ws, timeout=left)
        except TimeoutError:
            raise AssertionError(f"no {kind!r} frame within {timeout}s; saw {seen}") from None
        if frame.get("type") == kind and where(frame):
            return frame
        seen.append(frame)


def ping(ws: ClientConnection) -> list[Frame]:
    """Round trip: returns the frames that arrived before the pong."""
    skipped: list[Frame] = []
    send_frame(ws, {"type": "ping"})
    wait_for(ws, "pong", skipped=skipped)
    return skipped


def not_presence(frames: list[Frame]) -> list[Frame]:
    """All but presence frames: people sharing a chat come online and go offline at any time
    (a socket that connects brings its user online for the others)."""
    return [f for f in frames if f.get("type") != "presence"]


def frames_within(ws: ClientConnection, seconds: float) -> list[Frame]:
    """Everything that arrives in the next ``seconds`` (for "nothing else comes" checks)."""
    frames: list[Frame] = []
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        try:
            frames.append(recv_frame(ws, timeout=left))
        except TimeoutError:
            break
    return frames


@contextlib.contextmanager
def socket(base_url: str, token: str, **kwargs: Any) -> Iterator[ClientConnection]:
    """An open, subscribed socket: the first pong proves the server is listening for us."""
    kwargs.setdefault("close_timeout", 2)
    with connect(ws_url(base_url, token), open_timeout=RECV_TIMEOUT, **kwargs) as ws:
        ping(ws)
        yield ws


def refusal(url: str, **kwargs: Any) -> str:
    """How the server refuses a socket: ``"http <status>"`` when the handshake is refused,
    ``"close <code>"`` when it is accepted and closed at once, ``"open"`` if neither."""
    kwargs.setdefault("close_timeout", 2)
    try:
        with connect(url, open_timeout=RECV_TIMEOUT, **kwargs) as ws:
            try:
                ws.send(json.dumps({"type": "ping"}))
                ws.recv(timeout=RECV_TIMEOUT)
            except ConnectionClosed as closed:
                return f"close {closed.rcvd.code if closed.rcvd else None}"
            return "open"
    except InvalidStatus as refused:
        return f"http {refused.response.status_code}"


API = "/api/v1"
CAMEL = re.compile(r"^[a-z][a-zA-Z0-9]*$")
NOT_MEMBER = {"code": "not_found", "message": "This chat doesn't exist or you are not in it."}


def assert_error(response: httpx.Response, status: int, code: str) -> dict:
    """An error answer: the status, JSON ``{code, message}`` and nothing else."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"code", "message"}, body
    assert body["code"] == code, body
    assert isinstance(body["message"], str) and body["message"].strip()
    return body


def register_raw(client: httpx.Client, **body: object) -> httpx.Response:
    return client.post(f"{API}/auth/register", json=body)
