"""Media under /api/v1/media: upload (streamed to disk, then checked by the media service) and
fetch (membership checked on every request; S3 answers with a short-lived presigned redirect).

Sending a media message is the ordinary ``POST /chats/{chatId}/messages`` (or the socket's
``message`` frame) with content ``{"type": "image", "mediaId": ..., "caption": ...}``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import FileResponse, RedirectResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool

from backend.api.deps import BrowserUserDep, ServicesDep
from backend.api.errors import ERROR_RESPONSES
from backend.api.schemas import MediaOut, MediaPage
from backend.api.uploads import receive_upload
from backend.errors import TooLarge
from backend.models import MediaKind

router = APIRouter(prefix="/api/v1/media", tags=["media"], responses=ERROR_RESPONSES)
gallery_router = APIRouter(prefix="/api/v1/chats", tags=["media"], responses=ERROR_RESPONSES)
ChatIdPath = Annotated[str, Path(alias="chatId", max_length=64)]
KindName = Literal["image", "video", "document", "voice"]
MediaIdPath = Annotated[str, Path(alias="mediaId", max_length=64)]
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
) -> MediaOut:
    """Upload a file for a chat you are in: the raw bytes (``application/octet-stream``, name
    in ``filename``) or a multipart form with a ``file`` field. Its kind (photo, video, voice
    note, document) is judged from its bytes. Then send it with a message whose content is
    ``{"type": <kind>, "mediaId": ...}``."""
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
            services.media.upload, user.id, chat_id, received.path, received.filename, as_document
        )
    finally:
        received.path.unlink(missing_ok=True)
    return MediaOut.of(media)


@router.get("/{mediaId}", responses=FILE_RESPONSES, response_model=None)
def get_media(media_id: MediaIdPath, user: BrowserUserDep, services: ServicesDep) -> Response:
    """The file itself (a photo's full size). Documents always come as attachments."""
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
    """The chat's media gallery: files sent in it, newest first (photos and videos with
    ``kind=image&kind=video``, ``kind=document``, ``kind=voice``)."""
    kinds = [MediaKind(k) for k in kind] if kind else list(MediaKind)
    found = services.media.list_chat_media(user.id, chat_id, kinds, cursor, limit + 1)
    page = found[:limit]
    return MediaPage(
        media=[MediaOut.of(m) for m in page],
        next_cursor=page[-1].message_id if len(found) > limit else None,
    )
