"""Blobs as files: ``<root>/<key>``, written to a temporary name and renamed into place, so a
reader never sees half a file."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import BinaryIO

from backend.ports import BlobMissing

CHUNK_BYTES = 256 * 1024


class LocalBlobStorage:
    def __init__(self, root: Path) -> None:
        self._root = root

    def _path(self, key: str) -> Path:
        # Keys are made by the server, but a key that could leave the root is a bug: refuse it.
        parts = key.split("/")
        if not key or any(p in ("", ".", "..") for p in parts) or "\\" in key:
            raise ValueError(f"invalid blob key {key!r}")
        return self._root.joinpath(*parts)

    def _write(self, key: str, fill: object) -> None:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".part-")
        try:
            with os.fdopen(fd, "wb") as out:
                if isinstance(fill, bytes):
                    out.write(fill)
                else:
                    assert isinstance(fill, Path)
                    with fill.open("rb") as src:
                        shutil.copyfileobj(src, out, CHUNK_BYTES)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def put_file(self, key: str, path: Path, content_type: str) -> None:
        self._write(key, path)

    def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        self._write(key, data)

    def read_chunks(self, key: str) -> Iterator[bytes]:
        try:
            handle = self._path(key).open("rb")
        except FileNotFoundError as exc:
            raise BlobMissing(key) from exc
        return _chunks(handle)

    def size_of(self, key: str) -> int:
        try:
            return self._path(key).stat().st_size
        except FileNotFoundError as exc:
            raise BlobMissing(key) from exc

    def delete(self, key: str) -> None:
        path = self._path(key)
        path.unlink(missing_ok=True)
        # The media's folder goes with its last blob (not the root, nor a folder still in use:
        # rmdir refuses a folder that isn't empty).
        if path.parent != self._root:
            with contextlib.suppress(OSError):
                path.parent.rmdir()

    def local_path(self, key: str) -> Path | None:
        path = self._path(key)
        return path if path.is_file() else None

    def signed_url(
        self, key: str, content_type: str, disposition: str, expires: timedelta
    ) -> str | None:
        return None  # the app streams local files itself, after its membership check


def _chunks(handle: BinaryIO) -> Iterator[bytes]:
    with handle:
        while chunk := handle.read(CHUNK_BYTES):
            yield chunk
