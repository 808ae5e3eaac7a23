"""Blobs in an S3 bucket (or any S3-compatible server) through boto3.

Uploads go through boto3's transfer manager in sequential multipart chunks, so a large file is
streamed from disk with one chunk in memory; downloads are presigned GET URLs that carry the
response headers the app chose (type, disposition), so the bytes never pass through the app.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import ClientError

from backend.ports import BlobMissing

CHUNK_BYTES = 256 * 1024
# One 8 MiB part in flight at a time: the memory an upload costs stays flat whatever its size.
TRANSFER = TransferConfig(
    multipart_threshold=8 * 1024 * 1024,
    multipart_chunksize=8 * 1024 * 1024,
    max_concurrency=1,
    use_threads=False,
)
_MISSING = {"404", "NoSuchKey", "NotFound"}


class S3BlobStorage:
    def __init__(self, bucket: str, endpoint_url: str = "", region: str = "us-east-1") -> None:
        self._bucket = bucket
        # Credentials come from boto3's usual chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY,
        # profiles, instance roles); path-style addressing works with MinIO and moto too.
        self._client: Any = boto3.client(
            "s3",
            endpoint_url=endpoint_url or None,
            region_name=region,
            config=Config(s3={"addressing_style": "path"}, signature_version="s3v4"),
        )

    def check(self) -> None:
        """Fail at start, with the bucket's name, if the bucket cannot be reached."""
        self._client.head_bucket(Bucket=self._bucket)

    def put_file(self, key: str, path: Path, content_type: str) -> None:
        self._client.upload_file(
            str(path),
            self._bucket,
            key,
            ExtraArgs={"ContentType": content_type},
            Config=TRANSFER,
        )

    def put_bytes(self, key: str, data: bytes, content_type: str) -> None:
        self._client.put_object(Bucket=self._bucket, Key=key, Body=data, ContentType=content_type)

    def read_chunks(self, key: str) -> Iterator[bytes]:
        try:
            body = self._client.get_object(Bucket=self._bucket, Key=key)["Body"]
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _MISSING:
                raise BlobMissing(key) from exc
            raise
        return _chunks(body)

    def size_of(self, key: str) -> int:
        try:
            head = self._client.head_object(Bucket=self._bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in _MISSING:
                raise BlobMissing(key) from exc
            raise
        return int(head["ContentLength"])

    def delete(self, key: str) -> None:
        self._client.delete_object(Bucket=self._bucket, Key=key)

    def local_path(self, key: str) -> Path | None:
        return None  # S3 serves ranges itself, through the presigned URL

    def signed_url(
        self, key: str, content_type: str, disposition: str, expires: timedelta
    ) -> str | None:
        return str(
            self._client.generate_presigned_url(
                "get_object",
                Params={
                    "Bucket": self._bucket,
                    "Key": key,
                    "ResponseContentType": content_type,
                    "ResponseContentDisposition": disposition,
                },
                ExpiresIn=int(expires.total_seconds()),
            )
        )


def _chunks(body: Any) -> Iterator[bytes]:
    try:
        yield from body.iter_chunks(CHUNK_BYTES)
    finally:
        body.close()
