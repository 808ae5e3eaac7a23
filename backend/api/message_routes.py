"""REST routes for what is done to messages once sent (reply is a field of the send) and for
search (issue #7). Like ``routes``: parse, call one service, map the answer."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Response, status

from backend.api.deps import IpDep, ServicesDep, UserDep
from backend.api.errors import ERROR_RESPONSES
from backend.api.schemas import (
    EditMessageRequest,
    ForwardOut,
    ForwardRequest,
    MessageOut,
    ReactionRequest,
    SearchResults,
    StarredList,
)
from backend.models import Message, Receipts

router = APIRouter(prefix="/api/v1", responses=ERROR_RESPONSES)
MessageIdPath = Annotated[str, Path(alias="messageId", max_length=64)]
NO_CONTENT = status.HTTP_204_NO_CONTENT


def _out(message: Message, user_id: str) -> MessageOut:
    # Ticks travel on the WebSocket and in history pages; an action's answer is about content.
    return MessageOut.of(message, user_id, Receipts()).model_copy(update={"status": None})


@router.delete("/messages/{messageId}", status_code=204, tags=["messages"])
def delete_message(
    message_id: MessageIdPath,
    user: UserDep,
    services: ServicesDep,
    scope: Literal["everyone", "me"] = "everyone",
) -> Response:
    """Delete for everyone (your own message, within an hour; it becomes "This message was
    deleted" for every member, and deleting it again changes nothing; a file it carried is no
    longer fetched through it, and is deleted once no other message carries it), or with
    ``scope=me`` only from your own history and search."""
    if scope == "me":
        services.message_actions.delete_for_me(user.id, message_id)
    else:
        services.message_actions.delete_for_everyone(user.id, message_id)
    return Response(status_code=NO_CONTENT)


@router.patch("/messages/{messageId}", tags=["messages"])
def edit_message(
    message_id: MessageIdPath, body: EditMessageRequest, user: UserDep, services: ServicesDep
) -> MessageOut:
    """Change the text of your own message within 15 minutes; it is marked edited."""
    return _out(services.message_actions.edit(user.id, message_id, body.content), user.id)


@router.put("/messages/{messageId}/reactions", tags=["messages"])
def react(
    message_id: MessageIdPath, body: ReactionRequest, user: UserDep, services: ServicesDep
) -> MessageOut:
    """Set your one reaction to this message (replacing the one you had)."""
    return _out(services.message_actions.react(user.id, message_id, body.emoji), user.id)


@router.delete("/messages/{messageId}/reactions", tags=["messages"])
def unreact(message_id: MessageIdPath, user: UserDep, services: ServicesDep) -> MessageOut:
    """Remove your reaction (having none is fine)."""
    return _out(services.message_actions.unreact(user.id, message_id), user.id)


@router.put("/messages/{messageId}/star", status_code=204, tags=["messages"])
def star(message_id: MessageIdPath, user: UserDep, services: ServicesDep) -> Response:
    """Star a message, for you only."""
    services.message_actions.star(user.id, message_id, starred=True)
    return Response(status_code=NO_CONTENT)


@router.delete("/messages/{messageId}/star", status_code=204, tags=["messages"])
def unstar(message_id: MessageIdPath, user: UserDep, services: ServicesDep) -> Response:
    services.message_actions.star(user.id, message_id, starred=False)
    return Response(status_code=NO_CONTENT)


@router.get("/users/me/starred", tags=["messages"])
def list_starred(
    user: UserDep,
    services: ServicesDep,
    cursor: Annotated[str, Query(max_length=64)] = "",
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> StarredList:
    """Your starred messages across chats, newest message first."""
    messages, next_cursor = services.message_actions.list_starred(user.id, cursor, limit)
    return StarredList(
        messages=[_out(m, user.id) for m in messages], next_cursor=next_cursor or None
    )


@router.post("/messages/{messageId}/forward", status_code=201, tags=["messages"])
def forward(
    message_id: MessageIdPath,
    body: ForwardRequest,
    user: UserDep,
    services: ServicesDep,
    ip: IpDep,
) -> ForwardOut:
    """Forward to up to 5 chats you are in, all or nothing; copies are marked forwarded."""
    copies = services.message_actions.forward(user.id, message_id, body.chat_ids, client_ip=ip)
    return ForwardOut(messages=[_out(m, user.id) for m in copies])


@router.get("/search", tags=["search"])
def search(
    user: UserDep,
    services: ServicesDep,
    q: Annotated[str, Query(max_length=256, description="Words; each also matches as a prefix")],
    chat_id: Annotated[str, Query(alias="chatId", max_length=64)] = "",
    sender_id: Annotated[str, Query(alias="senderId", max_length=64)] = "",
    since: Annotated[
        datetime | None, Query(alias="from", description="ISO 8601; UTC if no zone")
    ] = None,
    until: Annotated[
        datetime | None, Query(alias="to", description="ISO 8601; UTC if no zone")
    ] = None,
    content_type: Annotated[str, Query(alias="type", max_length=32)] = "",
    cursor: Annotated[str, Query(max_length=64)] = "",
    limit: Annotated[int, Query(ge=1, le=50)] = 20,
) -> SearchResults:
    """Messages of every chat you can read whose words start with each word of ``q``,
    newest first, with a snippet of plain-text spans marking the matches."""
    page = services.search.search_messages(
        user.id,
        q,
        chat_id=chat_id,
        sender_id=sender_id,
        since=_aware(since),
        until=_aware(until),
        content_type=content_type,
        before=cursor,
        limit=limit,
    )
    return SearchResults.of(page)


def _aware(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment
