"""Receiving an upload body into a temporary file, chunk by chunk, with a hard size cap.

Two body shapes are accepted: the raw file (``application/octet-stream``, what a browser's
``xhr.send(file)`` makes) and ``multipart/form-data`` with a ``file`` part (the seed's shape).
Either way at most one network chunk is in memory; nothing buffers a 100 MiB file.
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, BinaryIO

from python_multipart.multipart import MultipartParser, parse_options_header

from backend.errors import InvalidInput, TooLarge

FILE_FIELD = b"file"


@dataclasses.dataclass
class ReceivedFile:
    path: Path
    filename: str
    size: int


class _Capped:
    """A file that refuses to grow past ``cap`` bytes."""

    def __init__(self, out: BinaryIO, cap: int) -> None:
        self.out, self.cap, self.size = out, cap, 0

    def write(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > self.cap:
            raise TooLarge("This file is too large.", size=self.size, limit=self.cap)
        self.out.write(data)


async def receive_upload(
    chunks: AsyncIterator[bytes],
    content_type: str,
    filename: str,
    cap: int,
    directory: Path,
) -> ReceivedFile:
    """Write the uploaded file to a new temporary file in ``directory`` (the caller deletes it).

    Raises:
        TooLarge: the file passed ``cap`` bytes (reading stops there).
        InvalidInput: a multipart body without a ``file`` part, or a malformed one.
    """
    directory.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=directory, prefix="upload-")
    path = Path(name)
    try:
        with open(fd, "wb") as out:
            sink = _Capped(out, cap)
            mime, options = parse_options_header(content_type)
            if mime == b"multipart/form-data":
                boundary = options.get(b"boundary")
                if not boundary:
                    raise InvalidInput("The multipart body has no boundary.")
                filename = await _receive_multipart(chunks, boundary, sink) or filename
            else:
                async for chunk in chunks:
                    sink.write(chunk)
        return ReceivedFile(path=path, filename=filename, size=sink.size)
    except BaseException:
        path.unlink(missing_ok=True)
        raise


async def _receive_multipart(chunks: AsyncIterator[bytes], boundary: bytes, sink: _Capped) -> str:
    """Stream the ``file`` part into ``sink``; returns its filename ("" if none was given)."""
    part: dict[str, Any] = {"headers": {}, "field": b"", "value": b""}
    found: dict[str, Any] = {"file": False, "filename": ""}

    def on_part_begin() -> None:
        part.update(headers={}, field=b"", value=b"", is_file=False)

    def on_header_field(data: bytes, start: int, end: int) -> None:
        part["field"] += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        part["value"] += data[start:end]

    def on_header_end() -> None:
        part["headers"][part["field"].lower()] = part["value"]
        part["field"], part["value"] = b"", b""

    def on_headers_finished() -> None:
        _, options = parse_options_header(part["headers"].get(b"content-disposition", b""))
        if options.get(b"name") == FILE_FIELD and not found["file"]:
            part["is_file"] = True
            found["file"] = True
            found["filename"] = options.get(b"filename", b"").decode("utf-8", "replace")

    def on_part_data(data: bytes, start: int, end: int) -> None:
        if part.get("is_file"):
            sink.write(data[start:end])

    parser = MultipartParser(
        boundary,
        {  # type: ignore[arg-type]
            "on_part_begin": on_part_begin,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_headers_finished": on_headers_finished,
            "on_part_data": on_part_data,
        },
    )
    try:
        async for chunk in chunks:
            parser.write(chunk)
        parser.finalize()
    except TooLarge:
        raise
    except Exception as exc:  # the parser's own errors: the client sent a broken body
        raise InvalidInput("The multipart body is malformed.") from exc
    if not found["file"]:
        raise InvalidInput("The form needs a 'file' field.")
    return str(found["filename"])
