"""The object store (MinIO in production, nanio embedded and in tests), always through the `minio` SDK."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from datetime import timedelta

from minio import Minio

from common.settings import Settings


class ObjectStore:
    def __init__(self, settings: Settings):
        self.bucket = settings.s3_bucket
        self.client = Minio(settings.s3_endpoint, access_key=settings.s3_access_key,
                            secret_key=settings.s3_secret_key, secure=settings.s3_secure)
        self._bucket_ready = False
        self._lock = threading.Lock()

    def ensure_bucket(self) -> None:
        """Create the bucket if it is missing; asked once per process (the store may have started after us)."""
        with self._lock:
            if not self._bucket_ready:
                if not self.client.bucket_exists(self.bucket):
                    self.client.make_bucket(self.bucket)
                self._bucket_ready = True

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self.ensure_bucket()
        self.client.put_object(self.bucket, key, io.BytesIO(data), len(data), content_type=content_type)

    def get(self, key: str) -> bytes:
        response = self.client.get_object(self.bucket, key)
        try:
            return response.read()
        finally:
            response.close()
            response.release_conn()

    def stream(self, key: str, chunk_size: int = 64 * 1024) -> Iterator[bytes]:
        """The object's bytes in chunks. The request is made here, before the first chunk is asked for, so a
        missing object or an unreachable store fails the call itself (while an error response can be sent)."""
        response = self.client.get_object(self.bucket, key)

        def chunks() -> Iterator[bytes]:
            try:
                yield from response.stream(chunk_size)
            finally:
                response.close()
                response.release_conn()

        return chunks()

    def delete(self, key: str) -> None:
        self.client.remove_object(self.bucket, key)

    def presigned_get(self, key: str, minutes: int = 5) -> str:
        return self.client.presigned_get_object(self.bucket, key, expires=timedelta(minutes=minutes))
