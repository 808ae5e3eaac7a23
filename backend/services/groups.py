"""Group chats: creating them, who is in them, and who may change that (seed section 1).

Every change is a *system line* stored in the chat ("Alice added Bob"), so the members' history
says what happened and when, and the line's id marks where a joining member's history starts and
a leaving member's ends (``Member.visible_from`` / ``visible_upto``).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from typing import Any

from backend.errors import Forbidden, GroupFull, InvalidInput, NotFound
from backend.events import ChatChanged
from backend.ids import is_uuid, new_id, new_message_id
from backend.models import Chat, ChatKind, Member, Role, User
from backend.ports import Bus, ChatStore, Clock, UserStore
from backend.services.chats import ChatService
from backend.services.messaging import MessagingService
from backend.unicode import require_encodable

MAX_MEMBERS = 256  # seed section 1: groups of up to 256 people
MAX_TITLE = 100


class GroupService:
    def __init__(
        self,
        chats: ChatService,
        chat_store: ChatStore,
        users: UserStore,
        messaging: MessagingService,
        bus: Bus,
        clock: Clock,
    ) -> None:
        self._chats = chats
        self._chat_store = chat_store
        self._users = users
        self._messaging = messaging
        self._bus = bus
        self._clock = clock

    def create_group(self, user_id: str, title: str, member_ids: Iterable[str]) -> Chat:
        """A new group owned by the caller, with the given people as members.

        Raises:
            InvalidInput: no title, or malformed member ids. NotFound: an unknown user.
            GroupFull: more than ``MAX_MEMBERS`` people including the caller.
        """
        clean_title = _clean_title(title)
        others = [uid for uid in _unique_ids(member_ids) if uid != user_id]
        if len(others) + 1 > MAX_MEMBERS:
            raise GroupFull(_full_message(), limit=MAX_MEMBERS)
        people = self._existing_users([user_id, *others])
        now = self._clock()
        chat = Chat(
            id=new_id(), kind=ChatKind.GROUP, title=clean_title, created_by=user_id, created_at=now
        )
        members = [
            Member(chat.id, uid, Role.OWNER if uid == user_id else Role.MEMBER, now)
            for uid in [user_id, *others]
        ]
        self._chat_store.add_group_chat(chat, members)
        recipients = [*others, user_id]
        self._line(chat.id, people[user_id], recipients, "created", title=clean_title)
        self._bus.publish(recipients, ChatChanged(chat.id))
        return chat

    def add_members(self, user_id: str, chat_id: str, member_ids: Iterable[str]) -> None:
        """Admins add people; people already in the group are skipped. New members see the
        group's messages from the line that added them on (WhatsApp's behaviour).

        The store takes the seats first, counting and inserting in one transaction (two admins
        on two processes adding at once cannot pass ``MAX_MEMBERS``), and only then is the
        line written: a refused add leaves no "added" line behind. Until the line exists, the
        newcomers' history starts at an id made just now, above everything already stored.

        Raises:
            GroupFull: the group would have more than ``MAX_MEMBERS`` members.
        """
        chat, current, _ = self._as_admin(user_id, chat_id)
        present = {m.user_id for m in current}
        new_ids = [uid for uid in _unique_ids(member_ids) if uid not in present]
        if not new_ids:
            return
        if len(current) + len(new_ids) > MAX_MEMBERS:
            raise GroupFull(_full_message(), limit=MAX_MEMBERS)  # refused without a write
        people = self._existing_users([user_id, *new_ids])
        former = {
            m.user_id: m
            for m in self._chat_store.list_members_of([chat_id])[chat_id]
            if not m.is_active
        }
        joining_at = max(new_message_id(), chat.last_message_id)
        now = self._clock()
        added = self._chat_store.add_members(
            chat_id,
            [
                Member(
                    chat_id=chat_id,
                    user_id=uid,
                    role=Role.MEMBER,
                    joined_at=now,
                    # A newcomer has nothing older to receive, so they must not pull the
                    # group's ticks back; the line raises these to itself below.
                    delivered_upto=max(former[uid].delivered_upto, joining_at)
                    if uid in former
                    else joining_at,
                    read_upto=max(former[uid].read_upto, joining_at)
                    if uid in former
                    else joining_at,
                    visible_from=joining_at,
                )
                for uid in new_ids
            ],
            MAX_MEMBERS,
        )
        if added is None:
            raise GroupFull(_full_message(), limit=MAX_MEMBERS)
        if not added:
            return  # another admin added them meanwhile, and wrote the line
        others = [m.user_id for m in current if m.user_id != user_id]
        recipients = [*others, *added, user_id]
        line = self._line(
            chat_id, people[user_id], recipients, "added", targets=[people[u] for u in added]
        )
        self._chat_store.start_history_at(chat_id, added, line)
        self._bus.publish(recipients, ChatChanged(chat_id))

    def remove_member(self, user_id: str, chat_id: str, target_id: str) -> None:
        """Admins remove a member (never the owner). The removed person keeps what they
        received, up to the line that says they were removed, and gets nothing newer."""
        chat, current, _ = self._as_admin(user_id, chat_id)
        target = next((m for m in current if m.user_id == target_id), None)
        if target is None:
            raise NotFound("That person is not in this group.")
        if target_id == user_id:
            raise InvalidInput("To leave the group, use Leave group.")
        if target.role is Role.OWNER:
            raise Forbidden("The group's owner can't be removed.")
        people = self._existing_users([user_id, target_id])
        recipients = [m.user_id for m in current]
        # The name goes into the line: it is the name the removed person keeps seeing.
        line = self._line(
            chat_id,
            people[user_id],
            recipients,
            "removed",
            targets=[people[target_id]],
            title=chat.title,
        )
        self._chat_store.end_membership(chat_id, target_id, self._clock(), line)
        self._bus.publish(recipients, ChatChanged(chat_id))

    def leave(self, user_id: str, chat_id: str) -> None:
        """Anyone may leave a group. If the owner leaves, the longest-standing admin (or
        member) becomes the owner, so every group with people in it has one."""
        chat, current = self._chats.access_chat_members(user_id, chat_id)
        _require_group(chat)
        me = next(m for m in current if m.user_id == user_id)
        people = self._existing_users([user_id])
        recipients = [m.user_id for m in current]
        line = self._line(chat_id, people[user_id], recipients, "left", title=chat.title)
        self._chat_store.end_membership(chat_id, user_id, self._clock(), line)
        remaining = [m for m in current if m.user_id != user_id]
        if me.role is Role.OWNER and remaining:
            heir = min(remaining, key=lambda m: (m.role is not Role.ADMIN, m.joined_at, m.user_id))
            self._chat_store.set_role(chat_id, heir.user_id, Role.OWNER)
        self._bus.publish(recipients, ChatChanged(chat_id))

    def rename(self, user_id: str, chat_id: str, title: str) -> None:
        """Admins change the group's name."""
        chat, current, _ = self._as_admin(user_id, chat_id)
        clean_title = _clean_title(title)
        if clean_title == chat.title:
            return
        self._chat_store.set_title(chat_id, clean_title)
        people = self._existing_users([user_id])
        recipients = [m.user_id for m in current]
        self._line(chat_id, people[user_id], recipients, "renamed", title=clean_title)
        self._bus.publish(recipients, ChatChanged(chat_id))

    def set_role(self, user_id: str, chat_id: str, target_id: str, role: Role | str) -> None:
        """Admins make a member an admin, or an admin a member again (not the owner)."""
        try:
            new_role = Role(role)
        except ValueError:
            raise InvalidInput("A role is admin or member.") from None
        if new_role is Role.OWNER:
            raise InvalidInput("A role is admin or member.")
        _, current, _ = self._as_admin(user_id, chat_id)
        target = next((m for m in current if m.user_id == target_id), None)
        if target is None:
            raise NotFound("That person is not in this group.")
        if target.role is Role.OWNER:
            raise Forbidden("The group's owner stays an admin.")
        if target.role is not new_role:
            self._chat_store.set_role(chat_id, target_id, new_role)
            self._bus.publish([m.user_id for m in current], ChatChanged(chat_id))

    def _as_admin(self, user_id: str, chat_id: str) -> tuple[Chat, list[Member], Member]:
        chat, current = self._chats.access_chat_members(user_id, chat_id)
        _require_group(chat)
        me = next(m for m in current if m.user_id == user_id)
        if me.role not in (Role.OWNER, Role.ADMIN):
            raise Forbidden("Only group admins can do that.")
        return chat, current, me

    def _existing_users(self, user_ids: list[str]) -> dict[str, User]:
        found = self._users.get_users(user_ids)
        if len(found) < len(set(user_ids)):
            raise NotFound("No such user.")
        return found

    def _line(
        self,
        chat_id: str,
        actor: User,
        recipients: list[str],
        event: str,
        *,
        targets: list[User] | None = None,
        title: str = "",
    ) -> str:
        """Store and announce a system line; its id. Names are written as they are now, so
        the line reads the same later (as in WhatsApp)."""
        content: dict[str, Any] = {
            "type": "system",
            "event": event,
            "actor": _person(actor),
            "targets": [_person(u) for u in targets or []],
        }
        if title:
            content["title"] = title
        return self._messaging.post_system_line(actor.id, chat_id, content, recipients).id


def _require_group(chat: Chat) -> None:
    if chat.kind is not ChatKind.GROUP:
        raise InvalidInput("This is not a group.")


def _person(user: User) -> dict[str, str]:
    return {"id": user.id, "name": user.display_name}


def _full_message() -> str:
    return f"A group can have at most {MAX_MEMBERS} members."


def _clean_title(raw: object) -> str:
    if not isinstance(raw, str):
        raise InvalidInput("A group needs a name.")
    title = " ".join(unicodedata.normalize("NFC", require_encodable(raw, "The name")).split())
    if not title:
        raise InvalidInput("A group needs a name.")
    if len(title) > MAX_TITLE:
        raise InvalidInput(f"A group name can be at most {MAX_TITLE} characters.")
    return title


def _unique_ids(raw: Iterable[str]) -> list[str]:
    ids = list(dict.fromkeys(raw))
    if len(ids) > MAX_MEMBERS:
        raise GroupFull(_full_message(), limit=MAX_MEMBERS)
    if not all(isinstance(u, str) and is_uuid(u) for u in ids):
        raise NotFound("No such user.")
    return ids
