"""The open conversation: a bounded window of messages, the composer, and optimistic sends."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import time
import uuid
import zoneinfo
from datetime import UTC, datetime

import reflex as rx

from backend.content import validate_content
from backend.errors import ChatError
from backend.events import PresenceChanged, TypingChanged
from backend.models import ChatKind, Message, MessageStatus, Receipts, User
from backend.services.message_actions import MAX_STARRED_PAGE
from chat_web import message_window as window
from chat_web.i18n import error_text, join_names, t, tn
from chat_web.services import services
from chat_web.states.session import SessionState
from chat_web.views import MessageView, Viewer, message_view, pending_view, with_day_labels

log = logging.getLogger(__name__)

COMPOSER_ID = "composer"
# Virtuoso's firstItemIndex must stay positive while older pages are put above: start high.
FIRST_INDEX = 1_000_000_000
# A typing indicator lapses this long after the last "typing" heard (senders repeat every 2 s).
TYPING_LAPSE_SECONDS = 3.5


def chat_id_from_path(path: str) -> str:
    """The chat a page's address opens ("" for the list alone)."""
    parts = [p for p in path.split("/") if p]
    return parts[1] if len(parts) == 2 and parts[0] == "chats" else ""


class ConversationState(rx.State):
    chat_id: str = ""
    title: str = ""
    subtitle: str = ""
    # The window of the chat in the browser: see chat_web/message_window.py.
    history: list[MessageView] = []
    recent: list[MessageView] = []
    has_older: bool = False
    # True once older pages pushed the newest messages out of the window.
    has_newer: bool = False
    is_loading_older: bool = False
    # The virtual list's index of the first message in the window (see _reindex).
    first_index: int = FIRST_INDEX
    list_key: str = ""  # changes each time a chat is (re)opened: the list starts afresh
    is_missing: bool = False
    composer_error: str = ""
    announcement: str = ""
    is_group: bool = False
    is_member: bool = True  # False in a group the user left or was removed from
    members_label: str = ""  # a group's header line: "Alice, Bob and You"
    # A 1:1 chat's other person: "online", or when they were last seen (ISO; "" = unknown).
    peer_online: bool = False
    peer_last_seen: str = ""
    typing_text: str = ""
    # The first message that arrived since the user last read the chat ("new messages").
    unread_divider_id: str = ""
    unread_label: str = ""
    # The message the composer answers (issue #7): its id, sender and a preview.
    reply_id: str = ""
    reply_sender: str = ""
    reply_text: str = ""
    _peer_id: str = ""
    _names: dict[str, str] = {}
    _typing: dict[str, float] = {}  # user id -> when their indicator lapses (epoch seconds)
    _time_zone: str = ""
    _receipts: Receipts = Receipts()
    _paged_back: bool = False  # the reader scrolled into older pages since opening the chat
    # Messages not (yet) stored, per chat: they survive switching chats and reconnects.
    _unsent: dict[str, list[MessageView]] = {}
    # Whether the tab is in front of the user: only then does an open chat count as read.
    _is_visible: bool = True

    async def _user_id(self) -> str:
        return (await self.get_state(SessionState)).user_id

    async def _verified_user_id(self) -> str:
        """For user actions: the session is checked again, so a signed-out one stops at once."""
        user_id = (await self.get_state(SessionState))._verified_user_id()
        if not user_id:
            self.composer_error = t("error.session_ended")
        return user_id

    def _window(self) -> list[MessageView]:
        # Raw values, not Reflex's change-tracking proxies: the window is only ever replaced,
        # never changed in place, and identity tells which messages changed.
        return [*self.get_value("history"), *self.get_value("recent")]

    def _viewer(self, user_id: str) -> Viewer:
        tz = None
        if self._time_zone:
            try:
                tz = zoneinfo.ZoneInfo(self._time_zone)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                tz = None
        return Viewer(user_id, self._names, self.is_group, tz)

    def _today(self) -> datetime:
        viewer = self._viewer("")
        now = datetime.now(UTC)
        return now.astimezone(viewer.tz) if viewer.tz else now

    def _reindex(self, before: list[MessageView], after: list[MessageView]) -> None:
        """Keep each message's index in the virtual list when rows are added or dropped
        above it (older pages in, the window trimmed), so the reader's view doesn't jump."""
        if not before or not after:
            return
        old_ids = [m.id for m in before]
        new_ids = [m.id for m in after]
        if new_ids[0] in old_ids:  # rows dropped from the top
            self.first_index += old_ids.index(new_ids[0])
        elif old_ids[0] in new_ids:  # rows put above
            self.first_index -= new_ids.index(old_ids[0])

    def _show(self, combined: list[MessageView]) -> None:
        """Make ``combined`` the window, resending as little as possible."""
        combined = with_day_labels(combined, self._today().date())
        self._reindex(self._window(), combined)
        placed = window.place(
            self.get_value("history"),
            combined,
            limit=window.MAX_WINDOW if self._paged_back else window.LIVE_WINDOW,
        )
        if placed.history_changed:
            self.history = placed.history
        if placed.recent != self.get_value("recent"):
            self.recent = placed.recent
        if placed.trimmed:
            self.has_older = True
        self._remember_unsent(combined)

    def _remember_unsent(self, combined: list[MessageView]) -> None:
        unsent = [m for m in combined if not window.is_stored(m)]
        if unsent or self.chat_id in self._unsent:
            others = {k: v for k, v in self._unsent.items() if k != self.chat_id}
            self._unsent = {**others, self.chat_id: unsent} if unsent else others

    async def _open(self, chat_id: str, typists_now: bool = False) -> None:
        """Show the latest page of ``chat_id`` and mark it read (or show that it is missing).

        ``typists_now``: ask who is typing there (only the listener, which then lets those
        indicators lapse); otherwise the indicators of the chat already open are kept.
        """
        user_id = await self._user_id()
        svc = services()
        if chat_id != self.chat_id:
            self._clear_reply()
            self._typing = {}
        self.chat_id, self.composer_error, self.announcement = chat_id, "", ""
        self.has_newer = self.is_loading_older = self._paged_back = False
        self.recent, self.first_index = [], FIRST_INDEX
        self.list_key = f"{chat_id}:{uuid.uuid4().hex[:8]}"
        try:
            summary = svc.chats.get_summary(user_id, chat_id)
            page = svc.messaging.list_messages(user_id, chat_id)
            members = svc.chats.members(user_id, chat_id)
        except ChatError:
            self.is_missing, self.title, self.subtitle, self.history = True, "", "", []
            return
        self.is_missing = False
        self.title = summary.title
        self.is_group = summary.chat.kind is ChatKind.GROUP
        self.is_member = summary.is_member
        self._show_members(user_id, [user for _, user in members])
        if not self.is_member:
            self._typing = {}
        elif typists_now:  # who is typing here right now, on any process
            with contextlib.suppress(ChatError):  # removed meanwhile: nobody to show
                typists = svc.typing.typing_now(user_id, chat_id)
                self._typing = {u: until.timestamp() for u, until in typists.items()}
        self._say_who_types()
        self._peer_id = summary.peer.id if summary.peer else ""
        self.subtitle = f"@{summary.peer.username}" if summary.peer else ""
        self._show_presence(user_id)
        senders = {m.sender_id for m in page.messages} - set(self._names)
        if senders:  # people who wrote here and have left since
            found = svc.accounts.get_users(list(senders))
            self._names = {**self._names, **{u.id: u.display_name for u in found.values()}}
        self._receipts = page.receipts
        viewer = self._viewer(user_id)
        self.history = self._with_stars(
            user_id, [message_view(m, viewer, page.receipts) for m in page.messages]
        )
        self.has_older = page.has_more
        first_unread = next(
            (m.id for m in page.messages if m.id > summary.my_read_upto and m.sender_id != user_id),
            "",
        )
        self.unread_divider_id = first_unread if summary.unread else ""
        self.unread_label = tn("conversation.unread", summary.unread) if summary.unread else ""
        self._show([*self.get_value("history"), *self._unsent_after(self.get_value("history"))])
        if self._is_visible:
            svc.receipts.mark_read(user_id, chat_id)

    def _with_stars(self, user_id: str, views: list[MessageView]) -> list[MessageView]:
        """``views`` with this user's stars shown (asked in pages the service accepts)."""
        actions = services().message_actions
        ids = [v.id for v in views]
        starred: set[str] = set()
        for start in range(0, len(ids), MAX_STARRED_PAGE):
            starred |= actions.starred_among(user_id, ids[start : start + MAX_STARRED_PAGE])
        if not starred:
            return views
        return [dataclasses.replace(v, starred=True) if v.id in starred else v for v in views]

    async def _apply_update(self, message: Message) -> None:
        """A message in the window was edited, deleted for everyone or reacted to."""
        view = message_view(message, self._viewer(await self._user_id()), self._receipts)
        updated = window.with_update(self._window(), view)
        if updated is not None:
            self._show(updated)

    def _apply_hidden(self, message_id: str) -> None:
        """The user deleted a message for themselves (here or on another device)."""
        current = self._window()
        if any(m.id == message_id for m in current):
            self._show(window.without(current, message_id))
        if self.reply_id == message_id:
            self._clear_reply()

    def _apply_star(self, message_id: str, starred: bool) -> None:
        current = self._window()
        updated = window.with_star(current, message_id, starred)
        if any(a is not b for a, b in zip(current, updated, strict=True)):
            self._show(updated)

    def _find(self, message_id: str) -> MessageView | None:
        return next((m for m in self._window() if m.id == message_id), None)

    def _start_reply(self, message_id: str) -> bool:
        """The menu's Reply: the composer quotes the message (False if it can't be answered)."""
        message = self._find(message_id)
        if message is None or not window.is_stored(message) or message.deleted:
            return False
        self.reply_id = message.id
        self.reply_sender = t("groups.you") if message.mine else (message.sender_name or self.title)
        self.reply_text = message.text or message.media_name
        return True

    @rx.event
    def cancel_reply(self):
        self._clear_reply()

    def _clear_reply(self) -> None:
        self.reply_id, self.reply_sender, self.reply_text = "", "", ""

    def _unsent_after(self, stored: list[MessageView]) -> list[MessageView]:
        """This chat's unsent messages, minus any stored meanwhile; none is in flight any more
        (sends finish under the state lock), so a leftover "pending" has failed."""
        stored_temp_ids = {m.temp_id for m in stored if m.temp_id}
        return [
            m if m.status == MessageStatus.FAILED else dataclasses.replace(m, status="failed")
            for m in self._unsent.get(self.chat_id, [])
            if m.temp_id not in stored_temp_ids
        ]

    def _close(self) -> None:
        self.chat_id, self.title, self.subtitle, self.history, self.recent = "", "", "", [], []
        self.is_missing = self.has_older = self.has_newer = self.is_group = False
        self._typing, self.typing_text, self.unread_divider_id = {}, "", ""

    async def _refresh_info(self) -> None:
        """The chat's name or membership changed: re-read the header and who may write."""
        user_id = await self._user_id()
        svc = services()
        try:
            summary = svc.chats.get_summary(user_id, self.chat_id)
            members = svc.chats.members(user_id, self.chat_id)
        except ChatError:
            return
        self.title, self.is_member = summary.title, summary.is_member
        self._show_members(user_id, [user for _, user in members])

    def _show_members(self, user_id: str, people: list[User]) -> None:
        self._names = {u.id: u.display_name for u in people}
        if not self.is_group:
            self.members_label = ""
            return
        others = sorted((u.display_name for u in people if u.id != user_id), key=str.casefold)
        you = [t("groups.you")] if self.is_member else []
        self.members_label = join_names([*others, *you])

    def _show_presence(self, viewer_id: str) -> None:
        if self.is_group or not self._peer_id:
            self.peer_online, self.peer_last_seen = False, ""
            return
        presence = services().presence.status_of(viewer_id, self._peer_id)
        self.peer_online = presence.online
        self.peer_last_seen = presence.last_seen_at.isoformat() if presence.last_seen_at else ""

    def _apply_presence(self, event: PresenceChanged) -> None:
        if event.user_id == self._peer_id and not self.is_group:
            self.peer_online = event.online
            if event.last_seen_at is not None or event.online:
                self.peer_last_seen = event.last_seen_at.isoformat() if event.last_seen_at else ""

    def _apply_typing(self, event: TypingChanged) -> None:
        """Someone in the open chat started or stopped typing."""
        others = {k: v for k, v in self._typing.items() if k != event.user_id}
        if event.is_typing:
            others[event.user_id] = time.time() + TYPING_LAPSE_SECONDS
        self._typing = others
        self._say_who_types()

    def _lapse_typing(self) -> float | None:
        """Drop indicators nobody renewed; seconds until the next one lapses (None: none)."""
        now = time.time()
        live = {k: v for k, v in self._typing.items() if v > now}
        if live != self._typing:
            self._typing = live
            self._say_who_types()
        return min(live.values()) - now if live else None

    def _say_who_types(self) -> None:
        names = [self._names.get(u, "") for u in sorted(self._typing)]
        names = [n for n in names if n]
        if not names:
            text = ""
        elif not self.is_group:
            text = t("typing.direct")
        elif len(names) == 1:
            text = t("typing.one", name=names[0])
        elif len(names) == 2:
            text = t("typing.two", first=names[0], second=names[1])
        else:
            text = t("typing.many", count=len(names))
        if text != self.typing_text:
            self.typing_text = text

    async def _add_live(self, message: Message) -> bool:
        """A message arrived on the bus for the open chat: show it once, in server order.

        Returns whether the user now sees it: on screen, in a tab in front of them (not while
        the reader is deep in old history or the tab is hidden).
        """
        if self.has_newer:
            return False  # the user is reading old history; the chat list tells them
        if message.sender_id in self._typing:  # a message ends its sender's typing
            self._typing = {k: v for k, v in self._typing.items() if k != message.sender_id}
            self._say_who_types()
        view = message_view(message, self._viewer(await self._user_id()), self._receipts)
        combined = window.with_arrival(self._window(), view)
        if combined is not None:
            self._show(combined)
            if not view.mine:
                self.announcement = t(
                    "conversation.new_message_from", name=self.title, text=view.text
                )
        return self._is_visible

    def _apply_receipts(self, receipts: Receipts) -> None:
        """The chat's watermarks moved: re-derive the ticks of own stored messages.

        Watermarks only move forward, so an event older than what was already read from the
        database (it was queued while the chat loaded) cannot turn a tick back.
        """
        self._receipts = Receipts(
            delivered_upto=max(self._receipts.delivered_upto, receipts.delivered_upto),
            read_upto=max(self._receipts.read_upto, receipts.read_upto),
        )
        current = self._window()
        updated = window.with_receipts(current, self._receipts)
        if any(a is not b for a, b in zip(current, updated, strict=True)):
            self._show(updated)

    @rx.event
    async def send(self, form: dict[str, str]):
        text = str(form.get("text", ""))
        if not text.strip():
            return
        if not self.chat_id:
            # A state that never opened the page's chat: after its server died, Reflex may
            # give the reconnecting tab a new token (the dead server's socket record makes it
            # look like a duplicate tab), and what was typed offline arrives before the
            # page's on_load. The page's own address says which chat it is for.
            page_chat_id = chat_id_from_path(str(self.router.url.path))
            if not page_chat_id or not await self._verified_user_id():
                return
            await self._open(page_chat_id)
            if self.is_missing:
                return
        try:
            content = validate_content(
                {"type": "text", "text": text}, services().settings.max_message_bytes
            )
        except ChatError as exc:
            # Keep the draft: nothing the user typed is lost to a refusal.
            self.composer_error = error_text(exc.code, exc.message, exc.params)
            yield rx.set_value(COMPOSER_ID, text)
            return
        self.composer_error = ""
        if self.has_newer:  # replying from deep in history: show the conversation's end again
            await self._open(self.chat_id)
        temp_id = str(uuid.uuid4())
        now = datetime.now(UTC)
        pending = pending_view(
            temp_id,
            content["text"],
            now.isoformat(timespec="microseconds"),
            self._viewer("").local_day(now),
            quote=(self.reply_id, self.reply_sender, self.reply_text),
        )
        self.unread_divider_id = ""
        self._clear_reply()
        self._show([*self._window(), pending])
        yield  # the pending bubble reaches the browser before the round trip to storage
        await self._store(temp_id, content["text"], pending.reply_id)

    @rx.event
    async def retry(self, temp_id: str):
        failed = next(
            (m for m in self._window() if m.temp_id == temp_id and m.status == "failed"), None
        )
        if failed is None or failed.is_upload:  # a file's retry is assets/media.js's
            return
        self._show(window.with_status(self._window(), temp_id, MessageStatus.PENDING.value))
        yield
        await self._store(temp_id, failed.text, failed.reply_id)

    async def _store(self, temp_id: str, text: str, reply_to: str = "") -> None:
        user_id = await self._verified_user_id()
        if not user_id:
            self._mark_failed(temp_id)
            return
        try:
            message = services().messaging.send_message(
                user_id,
                self.chat_id,
                {"type": "text", "text": text},
                temp_id,
                client_ip=self.router.session.client_ip,
                reply_to=reply_to,
            )
        except ChatError as exc:
            self.composer_error = error_text(exc.code, exc.message, exc.params)
            self._mark_failed(temp_id)
            return
        except Exception:  # storage unavailable: keep the bubble, offer a retry
            log.exception("send failed")
            self._mark_failed(temp_id)
            return
        await self._add_live(message)

    def _mark_failed(self, temp_id: str) -> None:
        self._show(window.with_status(self._window(), temp_id, MessageStatus.FAILED.value))

    @rx.event
    async def load_older(self):
        current = self._window()
        if not self.has_older or self.is_loading_older or not current:
            return
        self.is_loading_older = True
        yield
        user_id = await self._verified_user_id()
        oldest = next((m.id for m in current if window.is_stored(m)), "")
        try:
            page = services().messaging.list_messages(user_id, self.chat_id, before=oldest)
        except ChatError:
            self.is_loading_older = False
            return
        self._paged_back = True
        viewer = self._viewer(user_id)
        older = [message_view(m, viewer, self._receipts) for m in page.messages]
        stored = self._with_stars(user_id, older) + [m for m in current if window.is_stored(m)]
        if len(stored) > window.MAX_WINDOW:  # keep what the reader is looking at
            stored, self.has_newer = stored[: window.MAX_WINDOW], True
        loaded = with_day_labels(
            stored + [m for m in current if not window.is_stored(m)], self._today().date()
        )
        self._reindex(current, loaded)
        self.history, self.recent = loaded, []
        self.has_older = page.has_more
        self.is_loading_older = False

    @rx.event
    async def jump_to_latest(self):
        if await self._verified_user_id():
            await self._open(self.chat_id)

    @rx.event
    async def page_shown(self):
        """The tab came to the front (assets/chat.js): what is on screen is now read."""
        self._is_visible = True
        if self.chat_id and not self.is_missing and (user_id := await self._user_id()):
            services().receipts.mark_read(user_id, self.chat_id)

    @rx.event
    def page_hidden(self):
        self._is_visible = False

    @rx.event
    async def typing(self, _text: str = ""):
        """The composer changed (throttled in the browser): tell the others."""
        if not self.chat_id or self.is_missing or not self.is_member:
            return
        user_id = await self._user_id()
        if user_id:
            with contextlib.suppress(ChatError):  # left the chat meanwhile: nobody to tell
                services().typing.set_typing(user_id, self.chat_id, True)

    @rx.event
    def detect_time_zone(self):
        """on_load: ask the browser for its time zone (date separators are local dates)."""
        return rx.call_script(
            "Intl.DateTimeFormat().resolvedOptions().timeZone",
            callback=ConversationState.set_time_zone,
        )

    @rx.event
    def set_time_zone(self, name: str):
        try:
            zoneinfo.ZoneInfo(str(name))
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return
        self._time_zone = str(name)

    @rx.event
    def clear_composer_error(self):
        self.composer_error = ""
