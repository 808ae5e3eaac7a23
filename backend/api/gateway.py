"""The WebSocket gateway at /ws: one socket per device, subscribed to its user's bus channel
exactly as a browser tab's listener is."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
import uuid
from collections import deque
from urllib.parse import urlsplit

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.types import ASGIApp

from backend.api.batcher import Batcher
from backend.api.frames import (
    Command,
    FrameError,
    PingCommand,
    ReadCommand,
    SendCommand,
    SyncCommand,
    TypingCommand,
    ack_frame,
    error_frame,
    event_frames,
    message_frame,
    parse_frame,
)
from backend.api.limits import FramePace
from backend.container import Services
from backend.errors import ChatError, RateLimited
from backend.events import MessageCreated, SessionEnded
from backend.models import Message, User
from backend.ports import Subscription, SubscriptionLagged
from backend.services.accounts import hash_token
from backend.services.messaging import SendOutcome, SendRequest

log = logging.getLogger(__name__)
router = APIRouter()

# Close codes (4000-4999 are the application's): the client should sign in again / not retry.
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN_ORIGIN = 4403
# A socket remembers this many of its own sends, to skip their echo on the bus.
OWN_ECHOES = 256
# ... and this many (kind, chat, member) receipt frames, to skip repeating one word for word.
RECEIPTS_TOLD = 256
BEAT_EVERY_SECONDS = 1.0
# A socket's sends waiting for their batch: past this many, it reads no further frames until
# the oldest is answered (the client's TCP window fills and it slows down).
SENDS_IN_FLIGHT = 64
SIGNED_OUT = "signed out"
LAGGED = "lagged"
CLOSE_TRY_AGAIN = 1013  # RFC 6455 "try again later": reconnect, then sync what was missed


def origin_allowed(origin: str | None, host: str | None, allowed: tuple[str, ...]) -> bool:
    """Browsers send Origin; pages from other sites must not ride a user's token. Clients that
    are not browsers send none and are let through (the token is what authenticates them)."""
    if not origin:
        return True
    if "*" in allowed or origin.rstrip("/") in allowed:
        return True
    return urlsplit(origin).netloc == (host or "")


@router.websocket("/ws")
async def socket(websocket: WebSocket, token: str = "") -> None:
    """The token comes as ``?token=`` (browsers cannot set headers on a WebSocket) or as
    ``Authorization: Bearer``. A refused socket is accepted and closed at once with a code that
    says why (4401 sign in again, 4403 origin not allowed): a refused handshake would only
    say 403."""
    services: Services = websocket.app.state.services()
    settings = services.settings
    scheme, _, credentials = websocket.headers.get("authorization", "").partition(" ")
    token = token or (credentials if scheme.lower() == "bearer" else "")
    if not origin_allowed(
        websocket.headers.get("origin"), websocket.headers.get("host"), settings.allowed_origins
    ):
        await _refuse(websocket, CLOSE_FORBIDDEN_ORIGIN)
        return
    try:
        user = services.accounts.authenticate(token)
    except ChatError:
        await _refuse(websocket, CLOSE_UNAUTHENTICATED)
        return
    await websocket.accept()
    await _Socket(websocket, services, _batcher(websocket.app, services), user, token).run()


def _batcher(app: ASGIApp, services: Services) -> Batcher:
    """The batcher of this app on the running event loop (tests run apps on several loops)."""
    loop = asyncio.get_running_loop()
    state = app.state  # type: ignore[attr-defined]
    batcher: Batcher | None = getattr(state, "ws_batcher", None)
    if batcher is None or batcher.loop is not loop:
        batcher = state.ws_batcher = Batcher(services, loop)
    return batcher


async def _refuse(websocket: WebSocket, code: int) -> None:
    await websocket.accept()
    await websocket.close(code=code)


class _Socket:
    # Thousands of these sit idle: no per-instance dict, and the send bookkeeping is made on
    # the first send.
    __slots__ = (
        "acking",
        "batcher",
        "beat_at",
        "checked_at",
        "client_ip",
        "connection_id",
        "in_flight",
        "own_sends",
        "pace",
        "receipts_told",
        "services",
        "token",
        "token_hash",
        "user",
        "ws",
    )

    def __init__(
        self, websocket: WebSocket, services: Services, batcher: Batcher, user: User, token: str
    ):
        self.ws = websocket
        self.services = services
        self.batcher = batcher
        self.user = user
        self.token = token  # kept to re-check the session; never logged
        self.token_hash = hash_token(token)
        self.checked_at = self.beat_at = time.monotonic()  # run() beats first
        self.client_ip = websocket.client.host if websocket.client else ""
        # This socket's sends, as (chat id, temp id) or message id, to skip their bus echo:
        # the ack answers them. (The echo can arrive before the ack: a batch publishes its
        # messages before it hands each socket its result.)
        self.own_sends: dict[tuple[str, str] | str, None] | None = None  # oldest first
        # Sends waiting for their batch, oldest first, with the temp id their ack carries.
        self.in_flight: deque[tuple[str, asyncio.Future[SendOutcome]]] | None = None
        self.acking: asyncio.Task[None] | None = None
        # The last delivered/read frame written per (kind, chat, member), so a receipt event
        # whose other watermark did not move costs no frame for it.
        self.receipts_told: dict[tuple[str, str, str], tuple[object, ...]] | None = None
        settings = services.settings
        # Sends have per-user and per-IP limits in the service; the rest is paced here.
        self.pace = FramePace(settings.socket_frames_per_minute, settings.socket_frame_burst)
        self.connection_id = f"ws:{uuid.uuid4()}"  # this socket, for presence

    async def run(self) -> None:
        """Read frames and push events side by side until either ends; then clean up.

        The close for a signed-out session is sent from here, once the read loop has stopped,
        so it reaches the client under every ASGI server.
        """
        subscription = self.services.bus.subscribe(self.user.id)
        presence = self.services.presence
        presence.heartbeat(self.user.id, self.connection_id)
        reading = asyncio.create_task(self._read())
        pushing = asyncio.create_task(self._push(subscription))
        try:
            done, _ = await asyncio.wait({reading, pushing}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            tasks = [reading, pushing, *([self.acking] if self.acking else [])]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await subscription.close()
            presence.disconnect(self.user.id, self.connection_id)
        outcomes = set()
        for task in done:
            if task.cancelled():
                continue
            if isinstance(task.exception(), WebSocketDisconnect):
                continue  # the client went away: nothing to report
            if task.exception() is not None:
                log.error("socket task failed", exc_info=task.exception())
            else:
                outcomes.add(task.result())
        close_code = (
            CLOSE_UNAUTHENTICATED
            if SIGNED_OUT in outcomes
            else CLOSE_TRY_AGAIN
            if LAGGED in outcomes
            else None
        )
        if close_code is not None:
            with contextlib.suppress(RuntimeError, WebSocketDisconnect):
                await self.ws.close(code=close_code)

    async def _send(self, frame: dict) -> None:
        # No lock between the tasks that write (reading, pushing, acks): the server writes
        # each frame whole, and frames of different tasks have no order to keep.
        await self.ws.send_json(frame)

    async def _push(self, subscription: Subscription) -> str:
        """Bus events for this user, as frames; a message received is a message delivered.

        Delivery is marked through the batcher, which writes the marks of every socket in one
        batch, coalesced: in a group of 256 a message wakes 256 sockets at once, and none of
        their pushes waits for another's receipt.
        """
        recheck = self.services.settings.session_recheck_seconds
        while True:
            try:
                event = await subscription.get(timeout=recheck)
            except SubscriptionLagged:
                return LAGGED  # the client stopped reading; it reconnects and syncs
            if event is None:  # quiet for a while: has the session expired meanwhile?
                if not self._session_still_good():
                    return SIGNED_OUT
                continue
            if isinstance(event, SessionEnded):
                if event.token_hash == self.token_hash:
                    return SIGNED_OUT
                continue
            if isinstance(event, MessageCreated) and self._sent_here(event.message):
                continue  # this socket sent it and has (or will have) the ack
            try:
                for frame in event_frames(event):
                    if not self._told_already(frame):
                        await self._send(frame)
            except (WebSocketDisconnect, RuntimeError):
                return "gone"  # the client left while we were writing to it
            except Exception:
                log.exception("pushing %s failed", event.type)
                return "failed"
            if isinstance(event, MessageCreated) and event.message.sender_id != self.user.id:
                self.batcher.delivered(self.user.id, event.message.chat_id, event.message.id)

    def _told_already(self, frame: dict) -> bool:
        """Whether ``frame`` is a receipt frame this socket already wrote word for word (a
        delivery moved, so the chat's read frame repeats the last one)."""
        kind = frame["type"]
        if kind not in ("delivered", "read"):
            return False
        if self.receipts_told is None:
            self.receipts_told = {}
        key, told = (kind, frame["chatId"], frame["userId"]), tuple(frame.values())
        if self.receipts_told.get(key) == told:
            return True
        self.receipts_told.pop(key, None)  # re-inserted last: the dict stays oldest first
        self.receipts_told[key] = told
        if len(self.receipts_told) > RECEIPTS_TOLD:
            del self.receipts_told[next(iter(self.receipts_told))]
        return False

    def _sent_here(self, message: Message) -> bool:
        if message.sender_id != self.user.id or self.own_sends is None:
            return False
        key = (message.chat_id, message.temp_id) if message.temp_id else message.id
        return key in self.own_sends

    async def _read(self) -> str:
        max_bytes = self.services.settings.max_frame_bytes
        while True:
            incoming = await self.ws.receive()
            if incoming["type"] == "websocket.disconnect":
                raise WebSocketDisconnect(incoming.get("code", 1000))
            raw = (
                incoming.get("text") if incoming.get("text") is not None else incoming.get("bytes")
            )
            # Any frame is a sign of life; clients ping when idle (seed: every 25 s). A busy
            # socket beats once a second at most: presence lapses after tens of seconds.
            now = time.monotonic()
            if now - self.beat_at >= BEAT_EVERY_SECONDS:
                self.beat_at = now
                self.services.presence.heartbeat(self.user.id, self.connection_id)
            try:
                command = parse_frame(raw or "", max_bytes)
                if not isinstance(command, SendCommand) and (wait := self.pace.allow()):
                    raise RateLimited("Too many frames. Slow down.", retry_after=math.ceil(wait))
                if not isinstance(command, PingCommand) and not self._session_still_good():
                    return SIGNED_OUT
                await self._handle(command)
            except FrameError as exc:
                await self._send(error_frame(exc.code, exc.message, exc.temp_id))
            except ChatError as exc:  # refused by a service: say why, keep the socket
                await self._send(error_frame(exc.code, exc.message))
            except WebSocketDisconnect:
                raise
            except Exception:  # a bug must cost one frame, not the connection
                log.exception("handling a frame failed")
                await self._send(error_frame("internal", "Something went wrong. Try again."))

    def _session_still_good(self) -> bool:
        """Re-check the session at most every ``session_recheck_seconds`` (busy sockets too)."""
        now = time.monotonic()
        if now - self.checked_at < self.services.settings.session_recheck_seconds:
            return True
        try:
            self.services.accounts.authenticate(self.token)
        except ChatError:
            return False
        self.checked_at = now
        return True

    async def _handle(self, command: Command) -> None:
        services, user_id = self.services, self.user.id
        if isinstance(command, SendCommand):
            await self._submit(command)
            return
        # Anything else is handled after this socket's sends are answered, in frame order.
        await self._sends_answered()
        if isinstance(command, PingCommand):
            await self._send({"type": "pong"})
        elif isinstance(command, TypingCommand):
            services.typing.set_typing(user_id, command.chat_id, command.is_typing)
        elif isinstance(command, ReadCommand):
            services.receipts.mark_read(user_id, command.chat_id, command.message_id)
        elif isinstance(command, SyncCommand):
            page = services.messaging.list_messages_after(user_id, command.chat_id, command.after)
            for message in page.messages:
                await self._send(message_frame(message))
            if page.messages:  # this device now holds them: the senders get two ticks
                services.receipts.mark_delivered(user_id, command.chat_id, page.messages[-1].id)
            await self._send(
                {
                    "type": "sync_done",
                    "chatId": command.chat_id,
                    "hasMore": page.has_more,
                    "nextCursor": page.next_cursor or None,
                }
            )

    async def _submit(self, command: SendCommand) -> None:
        """Hand a send to the batcher and go on reading; its ack (or error) is written, in
        the order the sends came, as soon as its batch is stored."""
        if self.in_flight is None or self.own_sends is None:
            self.in_flight, self.own_sends = deque(), {}
        while len(self.in_flight) >= SENDS_IN_FLIGHT:
            await asyncio.wait([self.in_flight[0][1]])
        if command.temp_id:
            _remember(self.own_sends, (command.chat_id, command.temp_id))
        request = SendRequest(
            self.user.id,
            command.chat_id,
            command.content,
            command.temp_id,
            self.client_ip,
            reply_to=command.reply_to,
        )
        self.in_flight.append((command.temp_id, self.batcher.send(request)))
        if self.acking is None:
            self.acking = asyncio.create_task(self._answer_sends())

    async def _answer_sends(self) -> None:
        """Write the ack or error of each send in flight, oldest first, until none is left."""
        in_flight, own_sends = self.in_flight, self.own_sends
        assert in_flight is not None and own_sends is not None
        try:
            while in_flight:
                temp_id, pending = in_flight[0]
                try:
                    outcome = await pending
                except Exception:  # the batch failed: say so for this send, keep the socket
                    outcome = None
                in_flight.popleft()
                if isinstance(outcome, Message):
                    if not temp_id:
                        _remember(own_sends, outcome.id)
                    frame = ack_frame(temp_id, outcome)
                elif isinstance(outcome, ChatError):
                    frame = error_frame(outcome.code, outcome.message, temp_id)
                else:
                    frame = error_frame("internal", "Something went wrong. Try again.", temp_id)
                await self._send(frame)
        except (WebSocketDisconnect, RuntimeError):
            pass  # the client left; the read loop notices and ends the socket
        finally:
            self.acking = None

    async def _sends_answered(self) -> None:
        if self.acking is not None:
            await asyncio.shield(self.acking)


def _remember(recent: dict[tuple[str, str] | str, None], key: tuple[str, str] | str) -> None:
    """Keep ``key`` among the last ``OWN_ECHOES`` (a dict: insertion order, O(1) lookups)."""
    recent[key] = None
    if len(recent) > OWN_ECHOES:
        del recent[next(iter(recent))]
