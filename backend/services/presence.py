"""Presence: online / last seen, driven by heartbeats with expiry (seed section 4), never
stored except for the "last seen" time a user leaves behind when they go offline."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta

from backend.events import PresenceChanged
from backend.models import ChatKind
from backend.ports import Bus, ChatStore, Clock, PresenceStore, UserStore
from backend.settings import Settings


@dataclasses.dataclass(frozen=True)
class Presence:
    online: bool
    last_seen_at: datetime | None  # None while online, or when the viewer may not see it


class PresenceService:
    def __init__(
        self,
        settings: Settings,
        presence: PresenceStore,
        chat_store: ChatStore,
        users: UserStore,
        bus: Bus,
        clock: Clock,
    ) -> None:
        self._ttl = timedelta(seconds=settings.presence_ttl_seconds)
        self._presence = presence
        self._chat_store = chat_store
        self._users = users
        self._bus = bus
        self._clock = clock

    @property
    def heartbeat_seconds(self) -> float:
        """How often a connection should beat: three chances before it lapses."""
        return self._ttl.total_seconds() / 3

    def heartbeat(self, user_id: str, connection_id: str) -> None:
        """A connection of ``user_id`` (a tab, a socket) is alive; the first one brings the
        user online for the people who share a chat with them."""
        if self._presence.heartbeat(user_id, connection_id, self._clock(), self._ttl):
            self._announce(user_id, online=True, last_seen_at=None)

    def disconnect(self, user_id: str, connection_id: str) -> None:
        """A connection closed cleanly; the last one takes the user offline at once."""
        if self._presence.disconnect(user_id, connection_id):
            self._went_offline(user_id, self._clock())

    def sweep(self) -> int:
        """Take users whose connections stopped beating offline; how many went."""
        gone = self._presence.expire(self._clock())
        for user_id, last_beat in gone.items():
            self._went_offline(user_id, last_beat)
        return len(gone)

    def status_of(self, viewer_id: str, user_id: str) -> Presence:
        """What ``viewer_id`` may see of ``user_id``: "online", or when they were last seen
        unless either of them hides it (hiding yours hides everyone's from you, as WhatsApp)."""
        if self._presence.online([user_id]):
            return Presence(online=True, last_seen_at=None)
        users = self._users.get_users([viewer_id, user_id])
        target, viewer = users.get(user_id), users.get(viewer_id)
        if target is None or viewer is None or target.hide_last_seen or viewer.hide_last_seen:
            return Presence(online=False, last_seen_at=None)
        return Presence(online=False, last_seen_at=target.last_seen_at)

    def set_hide_last_seen(self, user_id: str, hide: bool) -> None:
        self._users.set_hide_last_seen(user_id, bool(hide))

    def _went_offline(self, user_id: str, at: datetime) -> None:
        self._users.set_last_seen(user_id, at)
        self._announce(user_id, online=False, last_seen_at=at)

    def _announce(self, user_id: str, *, online: bool, last_seen_at: datetime | None) -> None:
        contacts = self._contacts_of(user_id)
        if not contacts:
            return
        users = self._users.get_users([user_id, *contacts])
        subject = users.get(user_id)
        hides = subject is None or subject.hide_last_seen
        shown = [c for c in contacts if c in users and not hides and not users[c].hide_last_seen]
        withheld = [c for c in contacts if c not in shown]
        if shown:
            self._bus.publish(shown, PresenceChanged(user_id, online, last_seen_at))
        if withheld:
            self._bus.publish(withheld, PresenceChanged(user_id, online, None))

    def _contacts_of(self, user_id: str) -> list[str]:
        """The people ``user_id`` has a 1:1 chat with: presence is shown in 1:1 chats only (as
        on WhatsApp), and announcing it to every member of every group would cost a group of
        256 that many events each time anyone in it connects."""
        chat_ids = [
            c.id
            for c, me in self._chat_store.list_user_chats(user_id)
            if me.is_active and c.kind is ChatKind.DIRECT
        ]
        members = self._chat_store.list_members_of(chat_ids)
        return sorted({m.user_id for ms in members.values() for m in ms if m.is_active} - {user_id})
