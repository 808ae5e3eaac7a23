"""Groups in the browser: the new-group dialog and the group info panel (members, roles)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import reflex as rx

from backend.errors import ChatError
from backend.models import Role
from backend.services.groups import GroupService
from chat_web.i18n import error_text, t, tn
from chat_web.services import services
from chat_web.states.chat_list import ChatListState, PersonView
from chat_web.states.conversation import ConversationState
from chat_web.states.session import SessionState


@dataclasses.dataclass
class MemberView:
    user_id: str
    username: str
    display_name: str
    role_label: str  # "Group admin", "Group owner" or ""
    is_me: bool
    is_admin: bool
    can_be_removed: bool  # by the viewer: they are an admin, it isn't them or the owner


class GroupState(rx.State):
    # The people picker, shared by "new group" and "add members".
    member_query: str = ""
    member_results: list[PersonView] = []
    selected: list[PersonView] = []
    selected_ids: list[str] = []
    error: str = ""
    # The new-group dialog.
    is_new_group_open: bool = False
    group_title: str = ""
    # The group info panel of the open chat.
    is_info_open: bool = False
    is_adding: bool = False
    members: list[MemberView] = []
    members_count_label: str = ""
    i_am_admin: bool = False
    title_draft: str = ""

    async def _verified_user_id(self) -> str:
        return (await self.get_state(SessionState))._verified_user_id()

    def _fail(self, exc: ChatError) -> None:
        self.error = error_text(exc.code, exc.message, exc.params)

    def _reset_picker(self) -> None:
        self.member_query, self.member_results, self.error = "", [], ""
        self._select([])

    def _select(self, people: list[PersonView]) -> None:
        self.selected = people
        self.selected_ids = [p.user_id for p in people]

    @rx.event
    def set_new_group_open(self, is_open: bool):
        self.is_new_group_open = bool(is_open)
        self.group_title = ""
        self._reset_picker()

    @rx.event
    def set_group_title(self, title: str):
        self.group_title = str(title)

    @rx.event
    async def search_members(self, query: str):
        self.member_query = str(query)
        user_id = await self._verified_user_id()
        if not user_id:
            return rx.redirect("/login")
        if not self.member_query.strip():
            self.member_results = []
            return None
        present = {m.user_id for m in self.members} if self.is_adding else set()
        found = services().accounts.search_users(user_id, self.member_query)
        self.member_results = [
            PersonView(u.id, u.username, u.display_name) for u in found if u.id not in present
        ]
        return None

    @rx.event
    def toggle_member(self, user_id: str):
        if user_id in self.selected_ids:
            self._select([p for p in self.selected if p.user_id != user_id])
            return
        person = next((p for p in self.member_results if p.user_id == user_id), None)
        if person is not None:
            self._select([*self.selected, person])

    @rx.event
    async def create_group(self):
        user_id = await self._verified_user_id()
        if not user_id:
            return rx.redirect("/login")
        try:
            chat = services().groups.create_group(
                user_id, self.group_title, [p.user_id for p in self.selected]
            )
        except ChatError as exc:
            self._fail(exc)
            return None
        self.is_new_group_open = False
        self.group_title = ""
        self._reset_picker()
        await (await self.get_state(ChatListState))._refresh_chat(chat.id)
        return rx.redirect(f"/chats/{chat.id}")

    # The info panel.

    async def _chat_id(self) -> str:
        return (await self.get_state(ConversationState)).chat_id

    async def _load_members(self, user_id: str) -> None:
        chat_id = await self._chat_id()
        try:
            members = services().chats.members(user_id, chat_id)
        except ChatError as exc:
            self._fail(exc)
            return
        me = next((m for m, _ in members if m.user_id == user_id), None)
        self.i_am_admin = me is not None and me.role in (Role.OWNER, Role.ADMIN)
        labels = {Role.OWNER: t("groups.owner"), Role.ADMIN: t("groups.admin"), Role.MEMBER: ""}
        self.members = [
            MemberView(
                user_id=u.id,
                username=u.username,
                display_name=t("groups.you") if u.id == user_id else u.display_name,
                role_label=labels[m.role],
                is_me=u.id == user_id,
                is_admin=m.role in (Role.OWNER, Role.ADMIN),
                can_be_removed=self.i_am_admin and u.id != user_id and m.role is not Role.OWNER,
            )
            for m, u in members
        ]
        self.members_count_label = tn("groups.members", len(self.members))
        self.title_draft = (await self.get_state(ConversationState)).title

    @rx.event
    async def set_info_open(self, is_open: bool):
        self.is_info_open = bool(is_open)
        self.is_adding = False
        self._reset_picker()
        if self.is_info_open and (user_id := await self._verified_user_id()):
            await self._load_members(user_id)

    async def _act(self, change: Callable[[GroupService, str, str], object]):
        """Run one group change for the open chat, then show the members as they are now."""
        user_id = await self._verified_user_id()
        if not user_id:
            return rx.redirect("/login")
        chat_id = await self._chat_id()
        self.error = ""
        try:
            change(services().groups, user_id, chat_id)
        except ChatError as exc:
            self._fail(exc)
            return None
        self.is_adding = False
        self._reset_picker()
        await self._load_members(user_id)
        return None

    @rx.event
    async def remove_member(self, member_id: str):
        return await self._act(lambda g, me, chat: g.remove_member(me, chat, member_id))

    @rx.event
    async def make_admin(self, member_id: str):
        return await self._act(lambda g, me, chat: g.set_role(me, chat, member_id, Role.ADMIN))

    @rx.event
    async def dismiss_admin(self, member_id: str):
        return await self._act(lambda g, me, chat: g.set_role(me, chat, member_id, Role.MEMBER))

    @rx.event
    def start_adding(self):
        self.is_adding = True
        self._reset_picker()

    @rx.event
    async def add_selected(self):
        chosen = [p.user_id for p in self.selected]
        return await self._act(lambda g, me, chat: g.add_members(me, chat, chosen))

    @rx.event
    async def leave_group(self):
        result = await self._act(lambda g, me, chat: g.leave(me, chat))
        self.is_info_open = False
        return result

    @rx.event
    def set_title_draft(self, title: str):
        self.title_draft = str(title)

    @rx.event
    async def rename(self):
        title = self.title_draft
        return await self._act(lambda g, me, chat: g.rename(me, chat, title))
