"""View data: what the browser receives about chats and messages, derived from service answers."""

from __future__ import annotations

import dataclasses
import re
from datetime import date, datetime, timedelta
from typing import Any

from backend.content import MEDIA_TYPES, clock_duration
from backend.models import ChatKind, ChatSummary, Message, MessageStatus, Reaction, Receipts
from chat_web.i18n import join_names, t, tn

# The largest a photo or video is drawn in a bubble (CSS pixels); the preview file is 400.
BUBBLE_MEDIA_PX = 300


@dataclasses.dataclass
class MessageView:
    id: str  # the server id, or the client temp id while pending/failed
    temp_id: str
    text: str
    sent_at: str  # ISO 8601 UTC; the browser shows it in the viewer's zone and locale
    mine: bool
    status: str  # MessageStatus value for own messages, "" for others'
    sender_name: str = ""  # shown on others' messages in groups
    # "text", "system" for lines about the group itself, or a media type (``text`` is then
    # the caption).
    kind: str = "text"
    day: str = ""  # the viewer's local date (YYYY-MM-DD): date separators
    day_label: str = ""  # "Today", "Yesterday", a date: set on the first message of a day
    media_id: str = ""
    media_name: str = ""
    media_info: str = ""  # "PDF · 1.2 MB", or a duration "0:12"
    placeholder: str = ""  # a tiny blurred data: URI shown until the photo loads
    width: int = 0  # drawn size in the bubble, keeping the aspect ratio
    height: int = 0
    waveform: list[int] = dataclasses.field(default_factory=list)
    # Message actions (issue #7): the quote of a reply, labels, this viewer's star, reactions.
    reply_id: str = ""  # the quoted message's id ("" = not a reply)
    quote_sender: str = ""
    quote_text: str = ""
    forwarded: bool = False
    edited: bool = False
    deleted: bool = False  # deleted for everyone: a tombstone
    starred: bool = False
    reactions: list[ReactionView] = dataclasses.field(default_factory=list)
    # The text cut into plain and link pieces, only when it holds a link (else empty).
    parts: list[TextPart] = dataclasses.field(default_factory=list)
    # Media (issue #6): a file this tab is uploading; its bubble shows the local copy
    # (``local_url``, a blob: URL of this tab) with progress and cancel until it is sent.
    is_upload: bool = False
    local_url: str = ""


@dataclasses.dataclass
class ReactionView:
    """One emoji under a bubble: how many chose it and who (for the chip's label)."""

    emoji: str
    count: int
    label: str  # "👍 Alice and You": read by screen readers and shown on hover
    mine: bool


@dataclasses.dataclass
class TextPart:
    """A piece of a message's text; ``href`` is set for a safe link (http, https, mailto)."""

    text: str
    href: str = ""


@dataclasses.dataclass
class ChatItemView:
    chat_id: str
    title: str
    preview: str
    last_at: str
    unread: int
    unread_label: str
    last_mine: bool
    last_status: str
    is_group: bool = False


@dataclasses.dataclass(frozen=True)
class Viewer:
    """Who is looking, and how to say things to them (names of people, their time zone)."""

    user_id: str
    names: dict[str, str] = dataclasses.field(default_factory=dict)
    is_group: bool = False
    tz: Any = None  # a tzinfo; None = UTC until the browser has told us its zone

    def local_day(self, moment: datetime) -> str:
        return (moment.astimezone(self.tz) if self.tz else moment).date().isoformat()


def message_view(message: Message, viewer: Viewer, receipts: Receipts) -> MessageView:
    mine = message.sender_id == viewer.user_id
    content = message.content
    kind = "system" if content.get("type") == "system" else "text"
    if kind == "system":
        text: object = system_text(content, viewer.user_id)
    elif message.deleted_at is not None:
        text = t("message.deleted")
    else:
        text = content.get("caption" if content.get("type") in MEDIA_TYPES else "text")
    view = MessageView(
        id=message.id,
        temp_id=message.temp_id if mine else "",
        text=text if isinstance(text, str) else "",
        sent_at=message.created_at.isoformat(timespec="microseconds"),
        mine=mine and kind != "system",
        status=receipts.status_of(message.id).value if mine and kind != "system" else "",
        sender_name=viewer.names.get(message.sender_id, "") if viewer.is_group and not mine else "",
        kind=kind,
        day=viewer.local_day(message.created_at),
        forwarded=message.forwarded,
        edited=message.edited_at is not None and message.deleted_at is None,
        deleted=message.deleted_at is not None,
        reactions=reaction_views(message.reactions, viewer),
    )
    if message.quote is not None:
        quote = message.quote
        view.reply_id = quote.message_id
        is_mine = quote.sender_id == viewer.user_id
        view.quote_sender = t("groups.you") if is_mine else viewer.names.get(quote.sender_id, "")
        view.quote_text = t("message.deleted") if quote.deleted else quote.preview
    if kind == "text" and not view.deleted:
        view.parts = text_parts(view.text)
    if content.get("type") in MEDIA_TYPES and isinstance(content.get("mediaId"), str):
        return _with_media(view, content)
    return view


def reaction_views(reactions: tuple[Reaction, ...], viewer: Viewer) -> list[ReactionView]:
    """Reactions grouped by emoji, most chosen first (then first chosen), with who chose them."""
    groups: dict[str, list[str]] = {}
    for reaction in reactions:
        groups.setdefault(reaction.emoji, []).append(reaction.user_id)
    ordered = sorted(groups.items(), key=lambda item: -len(item[1]))
    views = []
    for emoji, user_ids in ordered:
        names = [
            t("groups.you") if u == viewer.user_id else viewer.names.get(u, t("message.someone"))
            for u in user_ids
        ]
        views.append(
            ReactionView(
                emoji=emoji,
                count=len(user_ids),
                label=t("reactions.label", emoji=emoji, names=join_names(names)),
                mine=viewer.user_id in user_ids,
            )
        )
    return views


# Only these schemes become links; "javascript:" and the like stay plain text.
_LINK = re.compile(r"\b(?:https?://|mailto:)[^\s<>\"']+", re.IGNORECASE)
_TRAILING = ".,;:!?)]}'\""


def text_parts(text: str) -> list[TextPart]:
    """``text`` cut into plain pieces and safe links; [] when it has no link (the bubble then
    draws the text as one piece)."""
    parts: list[TextPart] = []
    position = 0
    for found in _LINK.finditer(text):
        url = found.group(0).rstrip(_TRAILING)
        if len(url) <= len("mailto:"):
            continue
        start, end = found.start(), found.start() + len(url)
        if start > position:
            parts.append(TextPart(text[position:start]))
        parts.append(TextPart(url, href=url))
        position = end
    if not parts:
        return []
    if position < len(text):
        parts.append(TextPart(text[position:]))
    return parts


def _with_media(view: MessageView, content: dict[str, Any]) -> MessageView:
    """The fields a media bubble draws, read defensively (payloads come from storage)."""
    kind = str(content["type"])
    width, height = _fit(content.get("width"), content.get("height"), BUBBLE_MEDIA_PX)
    raw_name = content.get("name")
    name = raw_name if isinstance(raw_name, str) else ""
    info = media_info(kind, name, content.get("size"), content.get("duration"))
    waveform = content.get("waveform")
    return dataclasses.replace(
        view,
        kind=kind,
        media_id=str(content["mediaId"]),
        media_name=name,
        media_info=info,
        placeholder=str(content.get("placeholder") or ""),
        width=width,
        height=height,
        waveform=[int(v) for v in waveform if isinstance(v, int | float)]
        if isinstance(waveform, list)
        else [],
    )


def media_info(kind: str, name: str, size: object, duration: object) -> str:
    """The line under a file: "PDF · 1.2 MB" for a document, "0:12" for a voice note or
    video, nothing for a photo."""
    if kind == "document":
        extension = name.rsplit(".", 1)[1].upper() if "." in name else t("media.file")
        return t("media.document_info", type=extension[:8], size=human_size(size))
    if kind in ("voice", "video"):
        return clock_duration(duration)
    return ""


def _fit(width: object, height: object, box: int) -> tuple[int, int]:
    if not isinstance(width, int) or not isinstance(height, int) or width <= 0 or height <= 0:
        return box, box * 3 // 4
    scale = min(1.0, box / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def human_size(size: object) -> str:
    value = float(size) if isinstance(size, int | float) and size >= 0 else 0.0
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return ""


def system_text(content: dict[str, Any], viewer_id: str) -> str:
    """A system line in the viewer's words: "You added Bob", "Alice removed you"."""
    event = str(content.get("event", ""))
    if f"system.{event}" not in _SYSTEM_KEYS:
        return ""
    actor = content.get("actor") if isinstance(content.get("actor"), dict) else {}
    targets = [x for x in content.get("targets") or [] if isinstance(x, dict)]

    def name(person: dict[str, Any], *, subject: bool) -> str:
        if person.get("id") == viewer_id:
            return t("system.you") if subject else t("system.you_object")
        return str(person.get("name", ""))

    return t(
        f"system.{event}",
        actor=name(actor or {}, subject=True),
        targets=join_names([name(x, subject=False) for x in targets]),
        title=str(content.get("title", "")),
    )


_SYSTEM_KEYS = {"system.created", "system.added", "system.removed", "system.left", "system.renamed"}


def with_day_labels(messages: list[MessageView], today: date) -> list[MessageView]:
    """Label the first message of each day; views whose label is already right are kept
    as they are (the same objects), so unchanged lists are not resent."""
    labelled = []
    previous_day = ""
    for m in messages:
        label = day_label(m.day, today) if m.day and m.day != previous_day else ""
        labelled.append(m if m.day_label == label else dataclasses.replace(m, day_label=label))
        previous_day = m.day or previous_day
    return labelled


def day_label(day: str, today: date) -> str:
    when = date.fromisoformat(day)
    if when == today:
        return t("date.today")
    if when == today - timedelta(days=1):
        return t("date.yesterday")
    if today - when < timedelta(days=7):
        return when.strftime("%A")  # English weekday until the catalogue has CLDR data
    return when.strftime("%d/%m/%Y") if when.year != today.year else when.strftime("%d %B")


def pending_view(
    temp_id: str, text: str, now_iso: str, day: str = "", quote: tuple[str, str, str] = ("", "", "")
) -> MessageView:
    """A message not stored yet; ``quote`` is (id, sender, preview) of the one it answers."""
    return MessageView(
        id=temp_id,
        temp_id=temp_id,
        text=text,
        sent_at=now_iso,
        mine=True,
        status=MessageStatus.PENDING.value,
        day=day,
        reply_id=quote[0],
        quote_sender=quote[1],
        quote_text=quote[2],
        parts=text_parts(text),
    )


def upload_view(
    temp_id: str,
    kind: str,
    name: str,
    info: str,
    caption: str,
    local_url: str,
    now_iso: str,
    day: str = "",
) -> MessageView:
    """The bubble of a file this tab is uploading: pending, drawn from the local copy."""
    return MessageView(
        id=temp_id,
        temp_id=temp_id,
        text=caption,
        sent_at=now_iso,
        mine=True,
        status=MessageStatus.PENDING.value,
        kind=kind,
        day=day,
        media_name=name,
        media_info=info,
        parts=text_parts(caption),
        is_upload=True,
        local_url=local_url,
    )


def chat_item_view(summary: ChatSummary, viewer_id: str) -> ChatItemView:
    chat = summary.chat
    last_mine = bool(chat.last_message_id) and chat.last_sender_id == viewer_id
    at = chat.last_activity_at or chat.created_at
    return ChatItemView(
        chat_id=chat.id,
        title=summary.title,
        preview=chat.last_preview,
        last_at=at.isoformat(timespec="microseconds"),
        unread=summary.unread,
        unread_label=tn("chats.unread", summary.unread),
        last_mine=last_mine,
        last_status=summary.receipts.status_of(chat.last_message_id).value if last_mine else "",
        is_group=chat.kind is ChatKind.GROUP,
    )
