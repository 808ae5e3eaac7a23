"""Sending media messages from the browser: assets/media.js uploads the file itself (XHR, with
progress and cancel) to /api/v1/media/upload, then hands the upload's id to ``send_media``."""

from __future__ import annotations

import json
import logging

import reflex as rx

from backend.content import MEDIA_TYPES
from backend.errors import ChatError
from chat_web.i18n import error_text, t
from chat_web.services import services
from chat_web.states.conversation import ConversationState
from chat_web.states.session import SessionState

log = logging.getLogger(__name__)

# The hidden button assets/media.js presses after an upload, with the payload in a global.
SEND_BUTTON_ID = "media-send"
PAYLOAD_JS = "(window.__mediaPayload ?? '')"


class MediaState(rx.State):
    @rx.event
    async def send_media(self, payload: str):
        """Send an uploaded file to the open chat as a message.

        ``payload`` is JSON ``{"chatId", "mediaId", "kind", "caption", "tempId"}`` from
        assets/media.js (the chat the file was uploaded for: the user may have moved on);
        the service checks that this user uploaded it for this chat and builds the message
        from what the server measured, so nothing in it is trusted beyond naming the upload.
        """
        conversation = await self.get_state(ConversationState)
        user_id = (await self.get_state(SessionState))._verified_user_id()
        if not user_id:
            conversation.composer_error = t("error.session_ended")
            return
        try:
            data = json.loads(payload)
            kind = str(data["kind"])
            if kind not in MEDIA_TYPES:
                raise ValueError(kind)
            content = {"type": kind, "mediaId": str(data["mediaId"])}
            if data.get("caption"):
                content["caption"] = str(data["caption"])
            temp_id = str(data.get("tempId", ""))[:64]
            chat_id = str(data["chatId"])
        except (ValueError, KeyError, TypeError):
            return  # not something the product's script sends
        try:
            message = services().messaging.send_message(
                user_id,
                chat_id,
                content,
                temp_id,
                client_ip=self.router.session.client_ip,
            )
        except ChatError as exc:
            conversation.composer_error = error_text(exc.code, exc.message, exc.params)
            return
        if conversation.chat_id == chat_id:
            conversation.composer_error = ""
            await conversation._add_live(message)
