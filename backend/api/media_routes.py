"""Media under /api/v1/media: upload (streamed to disk, then checked by the media service),
fetch (membership checked on every request; local files answer byte ranges, S3 answers with a
short-lived presigned redirect), cancel an upload never sent, and the caller's storage use.

Sending a media message is the ordinary ``POST /chats/{chatId}/messages`` (or the socket's
``message`` frame) with content ``{"type": "image", "mediaId": ..., "caption": ...}``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, Response, status
from fastapi.responses import FileResponse, RedirectResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool

from backend.api.deps import BrowserUserDep, ServicesDep
from backend.api.errors import ERROR_RESPONSES
from backend.api.schemas import MediaOut, MediaPage, StorageUsageOut
from backend.api.uploads import receive_upload
from backend.errors import TooLarge
from backend.models import MediaKind

router = APIRouter(prefix="/api/v1/media", tags=["media"], responses=ERROR_RESPONSES)
gallery_router = APIRouter(prefix="/api/v1/chats", tags=["media"], responses=ERROR_RESPONSES)
ChatIdPath = Annotated[str, Path(alias="chatId", max_length=64)]
KindName = Literal["image", "video", "document", "voice"]
MediaIdPath = Annotated[str, Path(alias="mediaId", max_length=64)]
TempIdPath = Annotated[str, Path(alias="tempId", max_length=64)]
NO_CONTENT = status.HTTP_204_NO_CONTENT
VariantPath = Annotated[str, Path(pattern="^(original|thumbnail|preview|full|webp|poster)$")]

# Headers on every media answer: the type is the server's, never sniffed; nothing served here
# can run script even if opened directly; private caching only (URLs are per-user secrets).
SAFETY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; sandbox",
    "Cache-Control": "private, max-age=3600",
    "Cross-Origin-Resource-Policy": "same-origin",
}

_BINARY: dict[str, Any] = {"schema": {"type": "string", "format": "binary"}}
UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/octet-stream": _BINARY,
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                    "required": ["file"],
                }
            },
        },
    }
}
FILE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The file's bytes",
        "content": {t: _BINARY for t in ("application/octet-stream", "image/jpeg", "image/webp")},
    },
    206: {"description": "The requested byte range (Range header; local storage)"},
    416: {"description": "The Range lies outside the file (local storage)"},
    307: {"description": "A short-lived presigned URL of the storage (S3 deployments)"},
}


@router.post("/upload", status_code=201, openapi_extra=UPLOAD_BODY)
async def upload_media(
    request: Request,
    user: BrowserUserDep,
    services: ServicesDep,
    chat_id: Annotated[str, Query(alias="chatId", max_length=64)],
    filename: Annotated[str, Query(max_length=1024)] = "",
    as_document: Annotated[bool, Query(alias="asDocument")] = False,
    temp_id: Annotated[str, Query(alias="tempId", max_length=64)] = "",
) -> MediaOut:
    """Upload a file for a chat you are in: the raw bytes (``application/octet-stream``, name
    in ``filename``) or a multipart form with a ``file`` field. Its kind (photo, video, voice
    note, document) is judged from its bytes. Then send it with a message whose content is
    ``{"type": <kind>, "mediaId": ...}``. ``tempId`` (the client's id of that message) lets
    you cancel the upload with ``DELETE /media/uploads/{tempId}`` even if this answer is lost;
    an upload never sent is deleted after a day."""
    settings = services.settings
    # Refuse outsiders and oversized bodies before reading a byte.
    await run_in_threadpool(services.chats.access_chat, user.id, chat_id)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > settings.max_upload_bytes + 64 * 1024:
        raise TooLarge(
            "This file is too large.", size=int(declared), limit=settings.max_upload_bytes
        )
    received = await receive_upload(
        request.stream(),
        request.headers.get("content-type", ""),
        filename,
        settings.max_upload_bytes,
        settings.data_dir / "uploads",
    )
    try:
        media = await run_in_threadpool(
            services.media.upload,
            user.id,
            chat_id,
            received.path,
            received.filename,
            as_document,
            temp_id,
        )
    finally:
        received.path.unlink(missing_ok=True)
    if await request.is_disconnected():
        # The client gave up (a cancelled upload) while the file was being processed: nobody
        # will send it, so it should not sit in the uploader's quota until the sweeper comes.
        await run_in_threadpool(services.media.discard_upload, user.id, media.id)
    return MediaOut.of(media)


@router.get("/usage")
def get_storage_usage(user: BrowserUserDep, services: ServicesDep) -> StorageUsageOut:
    """How much of your storage quota your uploads take (uploads never sent count until they
    are cancelled or, after a day, deleted)."""
    usage = services.media.usage(user.id)
    return StorageUsageOut(used_bytes=usage.used_bytes, quota_bytes=usage.quota_bytes)


@router.delete("/uploads/{tempId}", status_code=204)
def cancel_upload(temp_id: TempIdPath, user: BrowserUserDep, services: ServicesDep) -> Response:
    """Cancel your uploads made with this ``tempId`` that no message sent: they are deleted
    and stop counting against your quota. Nothing to cancel is not an error."""
    services.media.discard_upload(user.id, temp_id=temp_id)
    return Response(status_code=NO_CONTENT)


@router.delete("/{mediaId}", status_code=204)
def delete_upload(media_id: MediaIdPath, user: BrowserUserDep, services: ServicesDep) -> Response:
    """Delete your upload that no message sent (a sent file goes with its message)."""
    services.media.discard_upload(user.id, media_id=media_id)
    return Response(status_code=NO_CONTENT)


@router.get("/{mediaId}", responses=FILE_RESPONSES, response_model=None)
def get_media(media_id: MediaIdPath, user: BrowserUserDep, services: ServicesDep) -> Response:
    """The file itself (a photo's full size), for whoever may read a message that carries it
    (in the chat it was sent to, or any chat it was forwarded to). Documents always come as
    attachments."""
    return _serve(services, user.id, media_id, "")


@router.get("/{mediaId}/{variant}", responses=FILE_RESPONSES, response_model=None)
def get_media_variant(
    media_id: MediaIdPath, variant: VariantPath, user: BrowserUserDep, services: ServicesDep
) -> Response:
    """One size of a photo (``thumbnail`` 100x100, ``preview`` 400, ``full`` 1920, ``webp``),
    a video's ``poster``, or the ``original`` of a video, voice note or document."""
    return _serve(services, user.id, media_id, variant)


def _serve(services: ServicesDep, user_id: str, media_id: str, variant: str) -> Response:
    media = services.media
    download = media.download(user_id, media_id, variant)  # the membership check
    url = media.signed_url(download)
    if url is not None:
        return RedirectResponse(url, status_code=307, headers={"Cache-Control": "no-store"})
    headers = {**SAFETY_HEADERS, "Content-Disposition": download.disposition}
    path = media.local_path(download)
    if path is not None:  # answers Range requests: videos and voice notes can seek
        return FileResponse(path, media_type=download.content_type, headers=headers)
    chunks = media.read(download)
    return StreamingResponse(chunks, media_type=download.content_type, headers=headers)


@gallery_router.get("/{chatId}/media")
def list_chat_media(
    chat_id: ChatIdPath,
    user: BrowserUserDep,
    services: ServicesDep,
    kind: Annotated[list[KindName] | None, Query(description="Repeat to combine")] = None,
    cursor: Annotated[str, Query(max_length=64)] = "",
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> MediaPage:
    """The chat's media gallery: files its messages carry (forwarded ones too, once per
    message, with that message's ``messageId``) that you may read, newest first (photos and
    videos with ``kind=image&kind=video``, ``kind=document``, ``kind=voice``); files of deleted
    messages are left out."""
    kinds = [MediaKind(k) for k in kind] if kind else list(MediaKind)
    page = services.media.list_chat_media(user.id, chat_id, kinds, cursor, limit)
    return MediaPage(
        media=[MediaOut.of(m) for m in page.media], next_cursor=page.next_cursor or None
    )
