"""One contract for media blob storage, run against files on disk and a real S3 server."""

from __future__ import annotations

import hashlib
import itertools
import os
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from backend.adapters.files.blobs import LocalBlobStorage
from backend.adapters.s3.blobs import S3BlobStorage
from backend.ports import BlobMissing, BlobStorage
from tests.s3_server import create_bucket

_buckets = itertools.count(1)


@pytest.fixture(params=["files", "s3"])
def blobs(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BlobStorage]:
    if request.param == "files":
        yield LocalBlobStorage(tmp_path / "media")
    else:
        endpoint = request.getfixturevalue("s3_endpoint")
        bucket = f"media-{os.getpid()}-{next(_buckets)}"
        create_bucket(endpoint, bucket)
        storage = S3BlobStorage(bucket, endpoint)
        storage.check()
        yield storage


def test_small_blobs_round_trip(blobs: BlobStorage) -> None:
    blobs.put_bytes("m1/thumbnail", b"\xff\xd8tiny", "image/jpeg")

    assert b"".join(blobs.read_chunks("m1/thumbnail")) == b"\xff\xd8tiny"
    assert blobs.size_of("m1/thumbnail") == 6


def test_a_large_file_streams_in_and_out_in_bounded_chunks(
    blobs: BlobStorage, tmp_path: Path
) -> None:
    source = tmp_path / "big.bin"
    digest = hashlib.sha256()
    with source.open("wb") as f:  # 20 MiB: several S3 multipart parts
        for i in range(20):
            block = os.urandom(1024 * 1024) if i % 5 == 0 else bytes([i]) * 1024 * 1024
            digest.update(block)
            f.write(block)

    blobs.put_file("m2/original", source, "application/octet-stream")

    read = hashlib.sha256()
    largest = 0
    for chunk in blobs.read_chunks("m2/original"):
        read.update(chunk)
        largest = max(largest, len(chunk))
    assert read.hexdigest() == digest.hexdigest()
    assert blobs.size_of("m2/original") == 20 * 1024 * 1024
    assert largest <= 1024 * 1024


def test_local_paths_exist_only_for_local_files(blobs: BlobStorage) -> None:
    blobs.put_bytes("m6/original", b"abc", "text/plain")

    path = blobs.local_path("m6/original")

    if isinstance(blobs, LocalBlobStorage):
        assert path is not None and path.read_bytes() == b"abc"
    else:
        assert path is None
    assert blobs.local_path("nope/original") is None


def test_missing_blobs_say_so(blobs: BlobStorage) -> None:
    with pytest.raises(BlobMissing):
        blobs.size_of("nope/original")
    with pytest.raises(BlobMissing):
        blobs.read_chunks("nope/original")


def test_delete_removes_and_tolerates_absence(blobs: BlobStorage) -> None:
    blobs.put_bytes("m3/poster", b"x", "image/jpeg")
    blobs.delete("m3/poster")
    blobs.delete("m3/poster")

    with pytest.raises(BlobMissing):
        blobs.size_of("m3/poster")


def test_deleting_every_variant_of_a_file_leaves_nothing_behind(
    blobs: BlobStorage, tmp_path: Path
) -> None:
    for variant in ("thumbnail", "preview", "full"):
        blobs.put_bytes(f"m7/{variant}", variant.encode(), "image/jpeg")
    blobs.put_bytes("m8/original", b"neighbour", "text/plain")

    blobs.delete("m7/thumbnail")
    blobs.delete("m7/preview")
    assert b"".join(blobs.read_chunks("m7/full")) == b"full"  # the others are untouched
    blobs.delete("m7/full")

    for variant in ("thumbnail", "preview", "full"):
        with pytest.raises(BlobMissing):
            blobs.size_of(f"m7/{variant}")
    assert b"".join(blobs.read_chunks("m8/original")) == b"neighbour"
    if isinstance(blobs, LocalBlobStorage):
        assert not (tmp_path / "media" / "m7").exists()  # the file's folder went with it
        assert (tmp_path / "media").is_dir()  # never the root
        blobs.delete("m8/original")
        assert (tmp_path / "media").is_dir()
    else:
        assert isinstance(blobs, S3BlobStorage)
        listed = blobs._client.list_objects_v2(Bucket=blobs._bucket, Prefix="m7/")
        assert listed.get("KeyCount", 0) == 0


def test_overwriting_replaces_whole(blobs: BlobStorage) -> None:
    blobs.put_bytes("m4/original", b"first version, longer", "text/plain")
    blobs.put_bytes("m4/original", b"second", "text/plain")

    assert b"".join(blobs.read_chunks("m4/original")) == b"second"


def test_signed_urls_serve_the_bytes_with_the_chosen_headers(blobs: BlobStorage) -> None:
    blobs.put_bytes("m5/original", b"%PDF-1.4 hello", "application/pdf")
    disposition = "attachment; filename=\"r.pdf\"; filename*=UTF-8''r.pdf"

    url = blobs.signed_url("m5/original", "application/pdf", disposition, timedelta(minutes=5))

    if isinstance(blobs, LocalBlobStorage):
        assert url is None  # local files are streamed by the app after its membership check
        return
    assert url is not None
    with urllib.request.urlopen(url) as response:
        assert response.read() == b"%PDF-1.4 hello"
        assert response.headers["Content-Disposition"] == disposition
        assert response.headers["Content-Type"] == "application/pdf"
    tampered = url.replace("m5/original", "m4/original")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(tampered)
    assert refused.value.code == 403


def test_local_keys_cannot_escape_the_root(tmp_path: Path) -> None:
    storage = LocalBlobStorage(tmp_path / "media")
    for key in ("../outside", "a/../../b", "/abs", "a//b", ""):
        with pytest.raises(ValueError):
            storage.put_bytes(key, b"x", "text/plain")
    assert not (tmp_path / "outside").exists()
