"""Receiving upload bodies: raw and multipart, streamed to disk with a hard cap."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from backend.api.uploads import receive_upload
from backend.errors import InvalidInput, TooLarge


async def chunks_of(data: bytes, size: int = 1000) -> AsyncIterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


def multipart(parts: list[tuple[str, str, bytes]], boundary: str = "XyZ") -> bytes:
    body = b""
    for name, filename, data in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        body += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n".encode()
        body += data + b"\r\n"
    return body + f"--{boundary}--\r\n".encode()


async def test_a_raw_body_lands_in_a_file(tmp_path: Path) -> None:
    data = bytes(range(256)) * 100

    got = await receive_upload(
        chunks_of(data), "application/octet-stream", "a.bin", 10**6, tmp_path
    )

    assert got.path.read_bytes() == data
    assert (got.filename, got.size) == ("a.bin", len(data))


async def test_the_file_part_of_a_form_lands_in_a_file(tmp_path: Path) -> None:
    data = b"text with -- and CRLF\r\n, then binary" + bytes(range(256)) * 50
    body = multipart([("note", "", b"ignored"), ("file", "Q3 report.pdf", data)])

    got = await receive_upload(
        chunks_of(body, 7), "multipart/form-data; boundary=XyZ", "", 10**6, tmp_path
    )

    assert got.path.read_bytes() == data
    assert (got.filename, got.size) == ("Q3 report.pdf", len(data))


async def test_reading_stops_at_the_cap_and_leaves_nothing(tmp_path: Path) -> None:
    read = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal read
        while True:
            read += 1
            yield b"x" * 1000

    with pytest.raises(TooLarge):
        await receive_upload(endless(), "application/octet-stream", "a", 5000, tmp_path)
    assert read == 6
    assert list(tmp_path.iterdir()) == []


async def test_a_form_without_a_file_is_refused(tmp_path: Path) -> None:
    body = multipart([("other", "", b"x")])
    with pytest.raises(InvalidInput, match="'file'"):
        await receive_upload(
            chunks_of(body), "multipart/form-data; boundary=XyZ", "", 1000, tmp_path
        )
    with pytest.raises(InvalidInput, match="boundary"):
        await receive_upload(chunks_of(body), "multipart/form-data", "", 1000, tmp_path)
    assert list(tmp_path.iterdir()) == []
