"""The live path into a tab: one bus subscription per tab, applied to the visible state.

This is the one module that turns bus events into UI state changes.
"""

from __future__ import annotations

import asyncio
import logging
import time

import reflex as rx

from backend.events import (
    ChatChanged,
    Event,
    MessageCreated,
    MessageHidden,
    MessageUpdated,
    PresenceChanged,
    ReceiptsChanged,
    SessionEnded,
    StarChanged,
    TypingChanged,
)
from backend.ports import SubscriptionLagged
from backend.services.accounts import hash_token
from chat_web.services import services
from chat_web.states.chat_list import ChatListState
from chat_web.states.conversation import ConversationState, chat_id_from_path
from chat_web.states.gallery import GalleryState, changes_gallery
from chat_web.states.session import SessionState

log = logging.getLogger(__name__)

# One listener per tab (client token). Reflex cancels a page's background work when the page
# loads again or the socket drops; this registry makes "one per tab" hold whatever Reflex does.
_listeners: dict[str, asyncio.Task[None]] = {}


class LiveState(rx.State):
    # How often assets/chat.js reports that this tab is still there (presence heartbeats).
    heartbeat_ms: int = 10_000

    @rx.event
    async def heartbeat(self):
        """assets/chat.js, every ``heartbeat_ms`` while the page is open: keeps the user online.

        The browser beats, not the server-side listener, so a closed laptop (whose socket is
        not closed cleanly) stops beating and goes offline when its presence lapses.
        """
        user_id = (await self.get_state(SessionState)).user_id
        if user_id:
            services().presence.heartbeat(user_id, self.router.session.client_token)

    @rx.event(background=True)
    async def listen(self):
        """on_load of the chat pages: subscribe, then sync from storage, then apply events.

        Subscribing before reading means nothing published in between is lost; events that
        repeat what the read already showed are de-duplicated by id.
        """
        current = asyncio.current_task()
        async with self:
            token = self.router.session.client_token
            session = await self.get_state(SessionState)
            # Background work may start before require_user has run: authenticate here too.
            user_id = session._authenticated_user_id()
            session_hash = hash_token(session.token)
            path = str(self.router.url.path)
        previous = _listeners.get(token)
        if previous is not None and previous is not current and not previous.done():
            previous.cancel()
        if not user_id or current is None:
            return None
        _listeners[token] = current
        svc = services()
        subscription = svc.bus.subscribe(user_id)
        signed_out = False
        try:
            async with self:
                self.heartbeat_ms = int(svc.presence.heartbeat_seconds * 1000)
                typing_lapses = await self._show_storage(chat_id_from_path(path))
            svc.presence.heartbeat(user_id, token)
            # This device now holds everything sent while it was away: two ticks for senders.
            svc.receipts.mark_all_delivered(user_id)
            recheck = svc.settings.session_recheck_seconds
            checked_at = time.monotonic()
            while True:
                wait = recheck - (time.monotonic() - checked_at)
                if typing_lapses is not None:
                    wait = min(wait, typing_lapses)
                try:
                    event = await subscription.get(timeout=max(wait, 0.05))
                except SubscriptionLagged:  # events were dropped: show storage's truth again
                    async with self:
                        chat_id = (await self.get_state(ConversationState)).chat_id
                        typing_lapses = await self._show_storage(chat_id)
                    continue
                if isinstance(event, TypingChanged) or typing_lapses is not None:
                    typing_lapses = await self._update_typing(event)
                    if isinstance(event, TypingChanged):
                        continue
                if event is None:
                    if time.monotonic() - checked_at < recheck:
                        continue
                    # Quiet for a while: is the session still good?
                    checked_at = time.monotonic()
                    async with self:
                        if not (await self.get_state(SessionState))._verified_user_id():
                            signed_out = True
                            break
                elif isinstance(event, SessionEnded):
                    if event.token_hash == session_hash:
                        signed_out = True
                        break  # signed out (here or in another tab of this browser)
                else:
                    try:
                        await self._apply(user_id, event)
                    except Exception:  # one bad event must not end the tab's live updates
                        log.exception("applying %s failed", event.type)
        finally:
            await subscription.close()
            if _listeners.get(token) is current:
                del _listeners[token]
            if signed_out:  # a closed tab is not told apart from a reload: it lapses instead
                svc.presence.disconnect(user_id, token)
        return rx.redirect("/login", replace=True)

    async def _update_typing(self, event: Event | None) -> float | None:
        """Apply a typing event to the open chat and let lapsed indicators go; seconds until
        the next one lapses (None when nobody is typing)."""
        async with self:
            conversation = await self.get_state(ConversationState)
            if isinstance(event, TypingChanged) and conversation.chat_id == event.chat_id:
                conversation._apply_typing(event)
            return conversation._lapse_typing()

    async def _show_storage(self, chat_id: str) -> float | None:
        """The chat list and the open chat (if any) as storage has them now; seconds until
        the first typing indicator shown on opening lapses (None when nobody is typing)."""
        await (await self.get_state(ChatListState))._reload()
        conversation = await self.get_state(ConversationState)
        if chat_id:
            await conversation._open(chat_id, typists_now=True)
        else:
            conversation._close()
        return conversation._lapse_typing()

    async def _apply(self, user_id: str, event: Event) -> None:
        """Apply one event: first what the user sees, then the bookkeeping it causes.

        Leaving the ``async with`` block sends the change to the browser, so the new bubble is
        on screen before the receipt is written and before the chat list is re-read.
        """
        if isinstance(event, PresenceChanged):
            async with self:
                (await self.get_state(ConversationState))._apply_presence(event)
            return
        if isinstance(event, TypingChanged | SessionEnded):
            return  # typing is applied by the loop, which also lets indicators lapse
        shown = False
        async with self:
            conversation = await self.get_state(ConversationState)
            is_open = conversation.chat_id == event.chat_id and not conversation.is_missing
            if isinstance(event, MessageCreated) and is_open:
                shown = await conversation._add_live(event.message)
            elif isinstance(event, ReceiptsChanged) and is_open:
                conversation._apply_receipts(event.chat_receipts)
            elif isinstance(event, ChatChanged) and is_open:
                await conversation._refresh_info()
            elif isinstance(event, MessageUpdated) and is_open:
                await conversation._apply_update(event.message)
            elif isinstance(event, MessageHidden) and is_open:
                conversation._apply_hidden(event.message_id)
            elif isinstance(event, StarChanged):
                if is_open:
                    conversation._apply_star(event.message_id, event.starred)
                return  # a star changes nothing in the chat list
            if is_open and changes_gallery(event):
                await (await self.get_state(GalleryState))._follow(event)
        if isinstance(event, MessageCreated) and event.message.sender_id != user_id:
            receipts = services().receipts
            mark = receipts.mark_read if shown else receipts.mark_delivered
            mark(user_id, event.chat_id, event.message.id)
        async with self:
            chat_list = await self.get_state(ChatListState)
            if not isinstance(event, ReceiptsChanged) or chat_list._shows_receipts_of(
                event.chat_id, event.user_id == user_id
            ):
                await chat_list._refresh_chat(event.chat_id)
