"""The doctor's check of backups: MinIO's buckets as ensure_buckets leaves them, read only.
Framework-free."""

from press_selfhost.backups import buckets, s3
from press_selfhost.errors import ServiceError, ServiceRejectedError
from press_selfhost.setup.health import Check, CheckFailed


def minio_buckets_check(settings: s3.StorageSettings, *, timeout: float = 10.0) -> Check:
	"""Backups and files need the buckets as ensure_buckets leaves them; this only reads them."""

	def probe() -> str:
		try:
			drift = buckets.bucket_drift(s3.storage_client(settings), settings)
		except ServiceRejectedError as error:
			raise CheckFailed(
				f"MinIO refused to show the buckets ({error})",
				"Check minio_access_key/minio_secret_key and that the key may read bucket configuration.",
			) from None
		except ServiceError as error:
			raise CheckFailed(
				f"MinIO at {settings.endpoint_url} is unreachable ({error})",
				"Start MinIO and check minio_endpoint_url in Selfhost Settings.",
			) from None
		if drift:
			raise CheckFailed(
				"; ".join(drift),
				"Run `bench --site <site> press-selfhost bootstrap` to set the buckets up again.",
			)
		names = (settings.backups_bucket, settings.private_bucket, settings.public_bucket)
		return f"buckets {', '.join(names)} match their configuration"

	return Check(
		"MinIO buckets and policies",
		probe,
		timeout=timeout * 3,
		fix_on_error="Check minio_endpoint_url and the MinIO keys in Selfhost Settings.",
	)
