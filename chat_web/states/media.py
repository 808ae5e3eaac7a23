"""Sending media messages from the browser, with an optimistic bubble.

assets/media.js owns the upload itself (XHR to /api/v1/media/upload, with progress and
cancel; the file never passes through Reflex's state) and tells this state what happens to it
through hidden buttons, each with a JSON payload in a global:

- ``start_upload``: a file started (or restarted) uploading: its bubble appears at once,
  pending, drawn from the tab's local copy;
- ``send_media``: the upload answered with a media id: the message is sent, and the stored
  message replaces the pending bubble (same client temp id, so the same row);
- ``upload_failed``: the upload was refused or broke: the bubble stays, failed, with Retry;
- ``cancel_upload``: the user cancelled: the bubble goes, and so does anything the server
  stored of the file (found by the temp id), so it stops counting against the quota.

Nothing in a payload is trusted beyond naming this user's upload: the service checks that
the user uploaded the media for that chat and builds the message from what the server
measured; the bubble's local fields only draw this user's own pending bubble.
"""

from __future__ import annotations

import contextlib
import json
import logging
from datetime import UTC, datetime
from typing import Any

import reflex as rx

from backend.content import MEDIA_TYPES
from backend.errors import ChatError
from backend.ids import MAX_TEMP_ID
from backend.models import Message, MessageStatus
from backend.services.media import MAX_CAPTION_CHARS, clean_filename
from chat_web import message_window as window
from chat_web.i18n import error_text, t
from chat_web.services import services
from chat_web.states.conversation import ConversationState
from chat_web.states.session import SessionState
from chat_web.views import MessageView, media_info, upload_view

log = logging.getLogger(__name__)

# The hidden buttons assets/media.js presses, with the payload in a global.
START_BUTTON_ID = "media-start"
SEND_BUTTON_ID = "media-send"
FAILED_BUTTON_ID = "media-failed"
CANCEL_BUTTON_ID = "media-cancel"
PAYLOAD_JS = "(window.__mediaPayload ?? '')"
MAX_REASON_CHARS = 300


def _payload(raw: str) -> tuple[str, str, dict[str, Any]] | None:
    """(chat id, temp id, the rest) of a payload from assets/media.js; None if malformed."""
    try:
        data = json.loads(raw)
        chat_id, temp_id = str(data["chatId"]), str(data["tempId"])
    except (ValueError, KeyError, TypeError):
        return None
    if not isinstance(data, dict) or not chat_id or not temp_id or len(temp_id) > MAX_TEMP_ID:
        return None
    return chat_id, temp_id, data


def _number(value: object) -> float:
    return float(value) if isinstance(value, int | float) and value >= 0 else 0.0


class MediaState(rx.State):
    async def _conversation(self) -> tuple[ConversationState, str]:
        """The conversation state and the verified user ("" when the session has ended)."""
        conversation = await self.get_state(ConversationState)
        user_id = (await self.get_state(SessionState))._verified_user_id()
        if not user_id:
            conversation.composer_error = t("error.session_ended")
        return conversation, user_id

    @rx.event
    async def start_upload(self, payload: str):
        """A file began uploading (or again, on Retry): its bubble shows at once, pending.

        ``payload``: ``{"chatId", "tempId", "kind", "name", "size", "duration", "localUrl",
        "caption"}``; ``kind`` is the browser's guess (the server decides when it answers).
        """
        parsed = _payload(payload)
        if parsed is None:
            return
        chat_id, temp_id, data = parsed
        kind = str(data.get("kind", ""))
        if kind not in MEDIA_TYPES:
            return
        conversation, user_id = await self._conversation()
        if not user_id:
            return
        existing = _find_unsent(conversation, chat_id, temp_id)
        if existing is not None:  # Retry: the same bubble, pending again
            _set_status(conversation, chat_id, temp_id, MessageStatus.PENDING.value)
            return
        name = clean_filename(str(data.get("name", "")))
        local_url = str(data.get("localUrl", ""))
        now = datetime.now(UTC)
        view = upload_view(
            temp_id,
            kind,
            name,
            media_info(kind, name, _number(data.get("size")), _number(data.get("duration"))),
            str(data.get("caption", ""))[:MAX_CAPTION_CHARS].strip(),
            # Only the tab's own blob: URLs; nothing else may become an image source.
            local_url if local_url.startswith("blob:") else "",
            now.isoformat(timespec="microseconds"),
            conversation._viewer("").local_day(now),
        )
        if conversation.chat_id != chat_id:  # the user moved on: it waits with that chat
            unsent = conversation._unsent
            conversation._unsent = {**unsent, chat_id: [*unsent.get(chat_id, []), view]}
            return
        if conversation.has_newer:  # deep in old history: show the conversation's end again
            await conversation._open(chat_id)
        conversation.unread_divider_id = ""
        conversation._show([*conversation._window(), view])

    @rx.event
    async def send_media(self, payload: str):
        """The upload answered: send the file to its chat as a message.

        ``payload``: ``{"chatId", "tempId", "mediaId", "kind", "caption"}`` (the chat the
        file was uploaded for: the user may have moved on meanwhile).
        """
        parsed = _payload(payload)
        if parsed is None:
            return
        chat_id, temp_id, data = parsed
        kind = str(data.get("kind", ""))
        if kind not in MEDIA_TYPES:
            return
        content = {"type": kind, "mediaId": str(data.get("mediaId", ""))}
        if data.get("caption"):
            content["caption"] = str(data["caption"])
        conversation, user_id = await self._conversation()
        if not user_id:
            _set_status(conversation, chat_id, temp_id, MessageStatus.FAILED.value)
            return
        try:
            message = services().messaging.send_message(
                user_id, chat_id, content, temp_id, client_ip=self.router.session.client_ip
            )
        except ChatError as exc:
            _fail(conversation, chat_id, temp_id, error_text(exc.code, exc.message, exc.params))
            return
        except Exception:  # storage unavailable: keep the bubble, offer a retry
            log.exception("sending an uploaded file failed")
            _fail(conversation, chat_id, temp_id, "")
            return
        await _arrived(conversation, chat_id, message)

    @rx.event
    async def upload_failed(self, payload: str):
        """The upload was refused or broke: the bubble stays, failed, with the reason.

        ``payload``: ``{"chatId", "tempId", "message"}``.
        """
        parsed = _payload(payload)
        if parsed is None:
            return
        chat_id, temp_id, data = parsed
        conversation = await self.get_state(ConversationState)
        reason = str(data.get("message", ""))[:MAX_REASON_CHARS]
        _fail(conversation, chat_id, temp_id, reason or t("media.upload_failed_plain"))

    @rx.event
    async def cancel_upload(self, payload: str):
        """The user cancelled an upload (or it can't be retried: ``"gone"``, the file is no
        longer in the tab): its bubble goes, and whatever the server stored of it is deleted.

        ``payload``: ``{"chatId", "tempId", "gone"}``.
        """
        parsed = _payload(payload)
        if parsed is None:
            return
        chat_id, temp_id, data = parsed
        conversation, user_id = await self._conversation()
        if not user_id:
            return
        _drop_unsent(conversation, chat_id, temp_id)
        with contextlib.suppress(ChatError):  # a malformed temp id: nothing was stored
            services().media.discard_upload(user_id, temp_id=temp_id)
        if data.get("gone") and conversation.chat_id == chat_id:
            conversation.composer_error = t("media.file_gone")


def _find_unsent(conversation: ConversationState, chat_id: str, temp_id: str) -> MessageView | None:
    views = (
        conversation._window()
        if conversation.chat_id == chat_id
        else conversation._unsent.get(chat_id, [])
    )
    return next((m for m in views if m.temp_id == temp_id and not window.is_stored(m)), None)


def _set_status(conversation: ConversationState, chat_id: str, temp_id: str, status: str) -> None:
    if conversation.chat_id == chat_id:
        conversation._show(window.with_status(conversation._window(), temp_id, status))
        return
    unsent = conversation._unsent
    if chat_id in unsent:
        changed = window.with_status(unsent[chat_id], temp_id, status)
        conversation._unsent = {**unsent, chat_id: changed}


def _fail(conversation: ConversationState, chat_id: str, temp_id: str, reason: str) -> None:
    _set_status(conversation, chat_id, temp_id, MessageStatus.FAILED.value)
    if reason and conversation.chat_id == chat_id:
        conversation.composer_error = reason


def _drop_unsent(conversation: ConversationState, chat_id: str, temp_id: str) -> None:
    def keep(m: MessageView) -> bool:
        return not (m.temp_id == temp_id and not window.is_stored(m))

    if conversation.chat_id == chat_id:
        current = conversation._window()
        if not all(keep(m) for m in current):
            conversation._show([m for m in current if keep(m)])
        return
    unsent = conversation._unsent
    if chat_id in unsent:
        rest = [m for m in unsent[chat_id] if keep(m)]
        others = {k: v for k, v in unsent.items() if k != chat_id}
        conversation._unsent = {**others, chat_id: rest} if rest else others


async def _arrived(conversation: ConversationState, chat_id: str, message: Message) -> None:
    """The file's message is stored: it replaces the pending bubble (same temp id)."""
    if conversation.chat_id == chat_id:
        conversation.composer_error = ""
        await conversation._add_live(message)
    else:
        _drop_unsent(conversation, chat_id, message.temp_id)
