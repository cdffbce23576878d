"""One-shot (service minio-init): create and configure MinIO's buckets with press_selfhost's own code.

Idempotent: a second run changes nothing (see press_selfhost.backups.buckets.ensure_buckets).
"""

import os

from press_selfhost.backups.buckets import ensure_buckets
from press_selfhost.backups.s3 import StorageSettings, storage_client

settings = StorageSettings(
	endpoint_url=os.environ["MINIO_ENDPOINT_URL"],
	access_key=os.environ["MINIO_ACCESS_KEY"],
	secret_key=os.environ["MINIO_SECRET_KEY"],
)
print(ensure_buckets(storage_client(settings), settings))
