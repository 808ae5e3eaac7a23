"""The live path into a tab: one bus subscription per tab, applied to the visible state.

This is the one module that turns bus events into UI state changes.
"""

from __future__ import annotations

import asyncio
import logging

import reflex as rx

from backend.events import ChatEvent, MessageCreated, ReceiptsChanged, SessionEnded, TypingChanged
from backend.ports import SubscriptionLagged
from backend.services.accounts import hash_token
from chat_web.services import services
from chat_web.states.chat_list import ChatListState
from chat_web.states.conversation import ConversationState
from chat_web.states.session import SessionState

log = logging.getLogger(__name__)

# One listener per tab (client token). Reflex cancels a page's background work when the page
# loads again or the socket drops; this registry makes "one per tab" hold whatever Reflex does.
_listeners: dict[str, asyncio.Task[None]] = {}


def chat_id_from_path(path: str) -> str:
    parts = [p for p in path.split("/") if p]
    return parts[1] if len(parts) == 2 and parts[0] == "chats" else ""


class LiveState(rx.State):
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
        try:
            async with self:
                await self._show_storage(chat_id_from_path(path))
            # This device now holds everything sent while it was away: two ticks for senders.
            svc.receipts.mark_all_delivered(user_id)
            while True:
                try:
                    event = await subscription.get(timeout=svc.settings.session_recheck_seconds)
                except SubscriptionLagged:  # events were dropped: show storage's truth again
                    async with self:
                        chat_id = (await self.get_state(ConversationState)).chat_id
                        await self._show_storage(chat_id)
                    continue
                if event is None:  # quiet for a while: is the session still good?
                    async with self:
                        if not (await self.get_state(SessionState))._verified_user_id():
                            break
                elif isinstance(event, SessionEnded):
                    if event.token_hash == session_hash:
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
        return rx.redirect("/login", replace=True)

    async def _show_storage(self, chat_id: str) -> None:
        """The chat list and the open chat (if any) as storage has them now."""
        await (await self.get_state(ChatListState))._reload()
        conversation = await self.get_state(ConversationState)
        if chat_id:
            await conversation._open(chat_id)
        else:
            conversation._close()

    async def _apply(self, user_id: str, event: ChatEvent) -> None:
        """Apply one event: first what the user sees, then the bookkeeping it causes.

        Leaving the ``async with`` block sends the change to the browser, so the new bubble is
        on screen before the receipt is written and before the chat list is re-read.
        """
        if isinstance(event, TypingChanged):
            return  # typing indicators come to the web UI with issue #3
        shown = False
        async with self:
            conversation = await self.get_state(ConversationState)
            is_open = conversation.chat_id == event.chat_id and not conversation.is_missing
            if isinstance(event, MessageCreated) and is_open:
                shown = await conversation._add_live(event.message)
            elif isinstance(event, ReceiptsChanged) and is_open:
                conversation._apply_receipts(event.chat_receipts)
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
