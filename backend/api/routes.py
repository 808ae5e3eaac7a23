"""REST routes under /api/v1 (seed §5). Each reads who the caller is, calls one service, and
maps the answer; every rule lives in the services.

Routes are plain ``def``: FastAPI runs them in its thread pool, so a slow one (password hashing)
never stalls the event loop that carries the live traffic.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Response, status

from backend.api.deps import IpDep, ServicesDep, TokenDep, UserDep
from backend.api.errors import ERROR_RESPONSES
from backend.api.schemas import (
    AddMembersRequest,
    ChatList,
    ChatOut,
    CreateChatRequest,
    LoginRequest,
    MemberList,
    MemberOut,
    MemberReceiptOut,
    MessageInfo,
    MessageOut,
    MessagePage,
    RegisterRequest,
    SendMessageRequest,
    SessionOut,
    SetRoleRequest,
    UpdateChatRequest,
    UpdateMeRequest,
    UserList,
    UserOut,
)
from backend.errors import InvalidInput
from backend.models import Receipts

router = APIRouter(prefix="/api/v1", responses=ERROR_RESPONSES)
# Path parameters keep the seed's camelCase names.
ChatIdPath = Annotated[str, Path(alias="chatId", max_length=64)]
UserIdPath = Annotated[str, Path(alias="userId", max_length=64)]
MessageIdPath = Annotated[str, Path(alias="messageId", max_length=64)]


# --- accounts -------------------------------------------------------------------------------


@router.post("/auth/register", status_code=201, tags=["auth"])
def register(body: RegisterRequest, services: ServicesDep, ip: IpDep) -> SessionOut:
    """Create an account and get a session token."""
    user, token = services.accounts.register(
        body.username, body.display_name, body.password, client_ip=ip
    )
    return SessionOut(token=token, user=UserOut.of(user))


@router.post("/auth/login", tags=["auth"])
def login(body: LoginRequest, services: ServicesDep, ip: IpDep) -> SessionOut:
    """Sign in; failures are rate limited per username and per IP."""
    user, token = services.accounts.login(body.username, body.password, client_ip=ip)
    return SessionOut(token=token, user=UserOut.of(user))


@router.post("/auth/logout", status_code=204, tags=["auth"])
def logout(token: TokenDep, services: ServicesDep, _user: UserDep) -> Response:
    """End this session; its open WebSockets and browser tabs are signed out too."""
    services.accounts.logout(token)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# --- users ----------------------------------------------------------------------------------


@router.get("/users", tags=["users"])
def search_users(
    user: UserDep, services: ServicesDep, q: Annotated[str, Query(max_length=256)] = ""
) -> UserList:
    """People by username prefix or display name, to start a chat with."""
    return UserList(users=[UserOut.of(u) for u in services.accounts.search_users(user.id, q)])


@router.get("/users/me", tags=["users"])
def get_me(user: UserDep) -> UserOut:
    return UserOut.of(user)


@router.put("/users/me", tags=["users"])
def update_me(body: UpdateMeRequest, user: UserDep, services: ServicesDep) -> UserOut:
    return UserOut.of(services.accounts.rename(user.id, body.display_name))


@router.get("/users/me/contacts", tags=["users"])
def contacts(user: UserDep, services: ServicesDep) -> UserList:
    """The people you have a chat with, most recent first."""
    return UserList(users=[UserOut.of(u) for u in services.chats.contacts(user.id)])


@router.get("/users/{userId}", tags=["users"])
def get_user(user_id: UserIdPath, _user: UserDep, services: ServicesDep) -> UserOut:
    return UserOut.of(services.accounts.get_user(user_id))


# --- chats ----------------------------------------------------------------------------------


@router.get("/chats", tags=["chats"])
def list_chats(user: UserDep, services: ServicesDep) -> ChatList:
    """Your chats with their last message and unread count, most recent first."""
    return ChatList(chats=[ChatOut.of(s) for s in services.chats.list_chats(user.id)])


@router.post("/chats", status_code=201, tags=["chats"])
def create_chat(body: CreateChatRequest, user: UserDep, services: ServicesDep) -> ChatOut:
    """Open the 1:1 chat with one participant (the same chat every time), or, with a
    ``groupName``, create a group you own with the participants (at most 256 people in all)."""
    if body.group_name is not None:
        chat = services.groups.create_group(user.id, body.group_name, body.participant_ids)
    elif len(body.participant_ids) != 1:
        raise InvalidInput("A 1:1 chat has exactly one participant; name a group to add more.")
    else:
        chat = services.chats.open_direct_chat(user.id, body.participant_ids[0])
    return _chat_out(services, user.id, chat.id)


@router.get("/chats/{chatId}", tags=["chats"])
def get_chat(chat_id: ChatIdPath, user: UserDep, services: ServicesDep) -> ChatOut:
    """A chat you are in, with its participants (404 for any other id)."""
    return _chat_out(services, user.id, chat_id)


def _chat_out(services: ServicesDep, user_id: str, chat_id: str) -> ChatOut:
    summary = services.chats.get_summary(user_id, chat_id)
    return ChatOut.of(summary, services.chats.participants(user_id, chat_id))


# --- groups ---------------------------------------------------------------------------------


@router.get("/chats/{chatId}/members", tags=["groups"])
def list_members(chat_id: ChatIdPath, user: UserDep, services: ServicesDep) -> MemberList:
    """The members with their roles (for someone who left: as they were when they left)."""
    return _member_list(services, user.id, chat_id)


@router.post("/chats/{chatId}/members", tags=["groups"])
def add_members(
    chat_id: ChatIdPath, body: AddMembersRequest, user: UserDep, services: ServicesDep
) -> MemberList:
    """Admins add people (those already in are skipped); 409 ``group_full`` past 256."""
    services.groups.add_members(user.id, chat_id, body.user_ids)
    return _member_list(services, user.id, chat_id)


@router.delete("/chats/{chatId}/members/{userId}", status_code=204, tags=["groups"])
def remove_member(
    chat_id: ChatIdPath, target_id: UserIdPath, user: UserDep, services: ServicesDep
) -> Response:
    """Admins remove a member; your own id leaves the group. Either way the person keeps the
    history up to that moment and gets nothing newer."""
    if target_id == user.id:
        services.groups.leave(user.id, chat_id)
    else:
        services.groups.remove_member(user.id, chat_id, target_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.patch("/chats/{chatId}", tags=["groups"])
def rename_group(
    chat_id: ChatIdPath, body: UpdateChatRequest, user: UserDep, services: ServicesDep
) -> ChatOut:
    """Admins rename the group."""
    services.groups.rename(user.id, chat_id, body.title)
    return _chat_out(services, user.id, chat_id)


@router.put("/chats/{chatId}/members/{userId}/role", tags=["groups"])
def set_role(
    chat_id: ChatIdPath,
    target_id: UserIdPath,
    body: SetRoleRequest,
    user: UserDep,
    services: ServicesDep,
) -> MemberList:
    """Admins make a member an admin, or an admin a member (never the owner)."""
    services.groups.set_role(user.id, chat_id, target_id, body.role)
    return _member_list(services, user.id, chat_id)


@router.get("/chats/{chatId}/messages/{messageId}/info", tags=["groups"])
def message_info(
    chat_id: ChatIdPath, message_id: MessageIdPath, user: UserDep, services: ServicesDep
) -> MessageInfo:
    """Who has received and read one message, and when ("message info")."""
    receipts = services.receipts.message_info(user.id, chat_id, message_id)
    return MessageInfo(
        message_id=message_id,
        chat_id=chat_id,
        receipts=[MemberReceiptOut.of(r) for r in receipts],
    )


def _member_list(services: ServicesDep, user_id: str, chat_id: str) -> MemberList:
    members = services.chats.members(user_id, chat_id)
    return MemberList(members=[MemberOut.of(m, u) for m, u in members])


# --- messages -------------------------------------------------------------------------------


@router.get("/chats/{chatId}/messages", tags=["messages"])
def list_messages(
    chat_id: ChatIdPath,
    user: UserDep,
    services: ServicesDep,
    cursor: Annotated[str, Query(max_length=64)] = "",
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
    direction: Literal["before", "after"] = "before",
) -> MessagePage:
    """History, oldest first within the page. ``before`` pages back from ``cursor`` (the
    newest page without one); ``after`` fetches what came after ``cursor``: what a client that
    reconnects has missed."""
    messaging = services.messaging
    page = (
        messaging.list_messages_after(user.id, chat_id, cursor, limit)
        if direction == "after"
        else messaging.list_messages(user.id, chat_id, before=cursor, limit=limit)
    )
    return MessagePage(
        messages=[MessageOut.of(m, user.id, page.receipts) for m in page.messages],
        next_cursor=page.next_cursor or None,
        has_more=page.has_more,
    )


@router.post("/chats/{chatId}/messages", status_code=201, tags=["messages"])
def send_message(
    chat_id: ChatIdPath, body: SendMessageRequest, user: UserDep, services: ServicesDep, ip: IpDep
) -> MessageOut:
    """Send when a WebSocket is not available. Resending with the same ``tempId`` returns the
    message stored the first time. ``replyTo`` quotes a message of this chat."""
    message = services.messaging.send_message(
        user.id, chat_id, body.content, body.temp_id, client_ip=ip, reply_to=body.reply_to or ""
    )
    return MessageOut.of(message, user.id, Receipts())
