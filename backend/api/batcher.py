"""The gateway's database work, gathered from every socket of the process into batches.

Sends and delivered marks arrive one frame at a time from thousands of sockets; storing each in
its own transaction costs more than the SQL in it. The batcher collects what arrives while the
previous batch is being written (at least one turn of the event loop) and hands it to the
services in one call each: ``MessagingService.send_messages`` (every rule still checked per
item) and ``ReceiptService.mark_delivered_many``. Under light load a batch is one frame and
waits for nothing; under heavy load batches grow by themselves (group commit) and each costs
one transaction.

The batches run on the event loop itself, as every service call of the gateway did before: a
thread of their own would let the loop write frames meanwhile, but it would spend the time
fighting the loop for the GIL (each frame written is a system call that gives the GIL away and
waits up to 5 ms to get it back): more CPU per message, not less.

Delivered marks are the one thing held back on purpose: at most one write every
``DELIVERED_EVERY_SECONDS``, each moving every (user, chat) to the newest message received
meanwhile. Every move that changes a chat's ticks is two frames to each member's devices;
coalescing them keeps a busy chat at a few receipts a second instead of one per message.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from backend.container import Services
from backend.services.messaging import SendOutcome, SendRequest

log = logging.getLogger(__name__)

# At most this many sends in one transaction: bounds the wait of the last one in a batch.
MAX_BATCH = 256
DELIVERED_EVERY_SECONDS = 0.1


class Batcher:
    """One per event loop (the sockets it serves live there); see the module docstring."""

    def __init__(self, services: Services, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._services = services
        self._sends: list[tuple[SendRequest, asyncio.Future[SendOutcome]]] = []
        self._delivered: dict[tuple[str, str], str] = {}
        self._delivered_at = 0.0  # loop time of the last delivered write
        self._send_came = asyncio.Event()
        self._draining: asyncio.Task[None] | None = None

    def send(self, request: SendRequest) -> asyncio.Future[SendOutcome]:
        """Queue a send; the future resolves to its stored message or the error refusing it
        (or raises if the whole batch failed unexpectedly)."""
        future: asyncio.Future[SendOutcome] = self.loop.create_future()
        self._sends.append((request, future))
        self._send_came.set()
        self._wake()
        return future

    def delivered(self, user_id: str, chat_id: str, message_id: str) -> None:
        """A device of ``user_id`` received ``message_id``: mark the chat delivered up to it
        soon (one move per user and chat, however many arrive meanwhile)."""
        key = (user_id, chat_id)
        if message_id > self._delivered.get(key, ""):
            self._delivered[key] = message_id
        self._wake()

    def _wake(self) -> None:
        if self._draining is None:
            self._draining = self.loop.create_task(self._drain())

    async def _drain(self) -> None:
        try:
            while self._sends or self._delivered:
                due = self._delivered_at + DELIVERED_EVERY_SECONDS - self.loop.time()
                if not self._sends and due > 0:
                    # Only receipts wait: let more gather until they are due, unless a send
                    # comes first (then they go with its batch if due by then).
                    self._send_came.clear()
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(due):
                            await self._send_came.wait()
                    continue
                # Let every socket woken in this turn of the loop add its frames first.
                await asyncio.sleep(0)
                self._write_batch()
        finally:
            self._draining = None

    def _write_batch(self) -> None:
        sends, self._sends = self._sends[:MAX_BATCH], self._sends[MAX_BATCH:]
        delivered: dict[tuple[str, str], str] = {}
        if self.loop.time() >= self._delivered_at + DELIVERED_EVERY_SECONDS:
            delivered, self._delivered = self._delivered, {}
            self._delivered_at = self.loop.time()
        if sends:
            try:
                outcomes = self._services.messaging.send_messages([r for r, _ in sends])
            except Exception as failure:  # a bug or a lost database: every send hears of it
                log.exception("a batch of %d sends failed", len(sends))
                for _, future in sends:
                    if not future.done():
                        future.set_exception(failure)
            else:
                for (_, future), outcome in zip(sends, outcomes, strict=True):
                    if not future.done():
                        future.set_result(outcome)
        if delivered:
            try:
                self._services.receipts.mark_delivered_many(
                    [(user_id, chat_id, upto) for (user_id, chat_id), upto in delivered.items()]
                )
            except Exception:  # the next message received marks them again
                log.exception("marking %d chats delivered failed", len(delivered))
