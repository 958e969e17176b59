"""The object store (MinIO in production, nanio embedded and in tests), always through the `minio` SDK."""

from __future__ import annotations

import io
from datetime import timedelta

from minio import Minio

from common.settings import Settings


class ObjectStore:
    def __init__(self, settings: Settings):
        self.bucket = settings.s3_bucket
        self.client = Minio(settings.s3_endpoint, access_key=settings.s3_access_key,
                            secret_key=settings.s3_secret_key, secure=settings.s3_secure)

    def ensure_bucket(self) -> None:
        if not self.client.bucket_exists(self.bucket):
            self.client.make_bucket(self.bucket)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self.client.put_object(self.bucket, key, io.BytesIO(data), len(data), content_type=content_type)

    def get(self, key: str) -> bytes:
        response = self.client.get_object(self.bucket, key)
        try:
            return response.read()
        finally:
            response.close()
            response.release_conn()

    def presigned_get(self, key: str, minutes: int = 5) -> str:
        return self.client.presigned_get_object(self.bucket, key, expires=timedelta(minutes=minutes))
