"""MinIO (any S3 server) for backups and files: the client, encrypted streaming backups, presigned URLs.

boto3 with Signature V4 and path-style addressing, endpoint from the settings: MinIO serves every
bucket under one host name, and nothing here is MinIO-specific, so any S3 server works.
Backup objects live at `sites/<site>/<UTC timestamp>/<kind>-<file name>.enc` in the backups bucket,
encrypted client-side (see `press_selfhost.backups.encryption`), one "set" per timestamp. The buckets'
own configuration is `press_selfhost.backups.buckets`.
"""

import contextlib
import io
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import BinaryIO

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from botocore.utils import conditionally_calculate_md5

from press_selfhost.backups.encryption import (
	TAG_SIZE,
	BackupHeader,
	BackupKeyring,
	StreamEncryptor,
	decrypted_chunks,
)
from press_selfhost.backups.retention import RetentionPolicy, backups_to_delete
from press_selfhost.errors import (
	BackupIntegrityError,
	ConfigurationError,
	ServiceRejectedError,
	ServiceUnavailableError,
)

SERVICE = "MinIO"
SITES_PREFIX = "sites/"
TIMESTAMP_FORMAT = "%Y%m%dT%H%M%SZ"
PART_SIZE = 8 * 1024 * 1024
# Part buffers of one encrypted upload: the parts in flight and the one being encrypted.
UPLOAD_BUFFER_MEMORY = 6 * PART_SIZE
PARTS_IN_FLIGHT = UPLOAD_BUFFER_MEMORY // PART_SIZE - 1
MAX_PRESIGNED_EXPIRY = 7 * 24 * 3600
BACKUP_KINDS = ("database", "public", "private", "site_config")
# How long a set without its database may wait for the retry of its upload before pruning removes it.
INCOMPLETE_SET_GRACE = timedelta(days=1)


@dataclass(frozen=True)
class StorageSettings:
	endpoint_url: str
	access_key: str
	secret_key: str = field(repr=False)
	region: str = "us-east-1"
	backups_bucket: str = "backups"
	private_bucket: str = "private"
	public_bucket: str = "public"


@dataclass(frozen=True)
class BackupFile:
	kind: str
	path: Path


@dataclass(frozen=True)
class StoredBackupFile:
	kind: str
	key: str
	size: int
	plaintext_size: int
	sha256: str
	key_id: str


@dataclass(frozen=True)
class BackupSet:
	site: str
	taken_at: datetime
	prefix: str
	files: tuple[StoredBackupFile, ...] = ()

	@property
	def complete(self) -> bool:
		"""The database goes up last, so a set with one has all its files; one without is a failed attempt."""
		return any(stored.kind == "database" for stored in self.files)


def storage_client(settings: StorageSettings):
	"""A boto3 S3 client for MinIO: SigV4, path-style, bounded retries and timeouts."""
	if not settings.endpoint_url or not settings.access_key or not settings.secret_key:
		raise ConfigurationError(
			"MinIO: set the endpoint URL, access key and secret key in Selfhost Settings."
		)
	client = boto3.client(
		"s3",
		endpoint_url=settings.endpoint_url,
		aws_access_key_id=settings.access_key,
		aws_secret_access_key=settings.secret_key,
		region_name=settings.region or "us-east-1",
		config=Config(
			signature_version="s3v4",
			s3={"addressing_style": "path"},
			retries={"mode": "standard", "max_attempts": 3},
			connect_timeout=5,
			read_timeout=60,
			max_pool_connections=PARTS_IN_FLIGHT + 2,
		),
	)
	# Without a Content-MD5, SigV4 signs every part's SHA-256 (x-amz-content-sha256), over HTTPS too,
	# and MinIO refuses a part that does not match it: the MD5 would be a second hash pass for nothing.
	client.meta.events.unregister("before-call.s3.UploadPart", conditionally_calculate_md5)
	return client


def service_error(error: Exception, doing: str) -> Exception:
	"""Our error for a boto3 failure: unreachable or 5xx → retry later; other 4xx → fix the request."""
	if isinstance(error, ClientError):
		status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
		code = error.response.get("Error", {}).get("Code")
		if status is not None and (status >= 500 or status == 429):
			return ServiceUnavailableError(
				SERVICE, f"{doing} failed; retry later", status_code=status, code=code
			)
		hint = " Check the MinIO access key and its policy." if status == 403 else ""
		return ServiceRejectedError(SERVICE, f"{doing} was refused.{hint}", status_code=status, code=code)
	return ServiceUnavailableError(
		SERVICE, f"{doing} failed: {type(error).__name__}; check that MinIO is up and reachable"
	)


def error_code(error: ClientError) -> str:
	return error.response.get("Error", {}).get("Code", "")


# --- encrypted streaming upload and download ---------------------------------------------------------


def backup_set_prefix(site: str, taken_at: datetime) -> str:
	return f"{SITES_PREFIX}{site}/{taken_at.astimezone(timezone.utc).strftime(TIMESTAMP_FORMAT)}/"


def upload_backup_set(
	client,
	bucket: str,
	site: str,
	taken_at: datetime,
	files: Sequence[BackupFile],
	keyring: BackupKeyring,
) -> BackupSet:
	"""Encrypt and upload each file of one backup (database, public, private, site_config).

	Keys are deterministic, so a retry after a failure overwrites the same objects (and aborts the
	failed attempt's multipart upload) instead of leaving a second, partial set. The database is
	uploaded last: its presence marks the set complete.
	"""
	prefix = backup_set_prefix(site, taken_at)
	stored = []
	for backup_file in sorted(files, key=lambda backup_file: backup_file.kind == "database"):
		if backup_file.kind not in BACKUP_KINDS:
			raise ValueError(f"unknown backup file kind {backup_file.kind!r}; expected one of {BACKUP_KINDS}")
		key = f"{prefix}{backup_file.kind}-{backup_file.path.name}.enc"
		with open(backup_file.path, "rb") as source:
			header = upload_encrypted(client, bucket, key, source, keyring, site)
		stored.append(
			StoredBackupFile(
				kind=backup_file.kind,
				key=key,
				size=header.encrypted_size,
				plaintext_size=header.plaintext_size,
				sha256=header.plaintext_sha256.hex(),
				key_id=header.key_id.hex(),
			)
		)
	return BackupSet(site, taken_at, prefix, tuple(stored))


def upload_encrypted(
	client, bucket: str, key: str, source: BinaryIO, keyring: BackupKeyring, site: str
) -> BackupHeader:
	"""Encrypt a seekable source into one multipart object; memory stays at a few parts whatever its size.

	Each part is one encrypted chunk, encrypted into a reused buffer while earlier parts upload.
	On any failure the multipart upload is aborted, so no partial object is ever visible; if the abort
	itself cannot reach MinIO, the next attempt for the same key (or `abort_stale_uploads`, or the
	lifecycle rule) removes it.
	"""
	abort_stale_uploads(client, bucket, prefix=key, older_than=timedelta(0), only_key=key)
	source_size = source.seek(0, io.SEEK_END)
	encryptor = StreamEncryptor(source, keyring, site, chunk_size=part_size_for(source_size) - TAG_SIZE)
	header = encryptor.header
	metadata = {
		"plaintext-sha256": header.plaintext_sha256.hex(),
		"plaintext-size": str(header.plaintext_size),
		"key-id": header.key_id.hex(),
		"format": "press-selfhost-backup-v1",
	}
	try:
		upload_id = client.create_multipart_upload(Bucket=bucket, Key=key, Metadata=metadata)["UploadId"]
	except (ClientError, BotoCoreError) as error:
		raise service_error(error, f"Starting the upload of {key}") from error
	try:
		parts = _upload_parts(client, bucket, key, upload_id, encryptor)
		client.complete_multipart_upload(
			Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}
		)
	except BaseException as error:
		# If MinIO is unreachable, the next attempt and the lifecycle rule clean the upload up.
		with contextlib.suppress(ClientError, BotoCoreError):
			client.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
		if isinstance(error, ClientError | BotoCoreError):
			raise service_error(error, f"Uploading {key}") from error
		raise
	return header


def part_size_for(size: int) -> int:
	"""PART_SIZE, or more for huge files: S3 allows at most 10,000 parts (we stay under 9,000)."""
	mib = 1024 * 1024
	return max(PART_SIZE, -(-size // 9000 // mib) * mib)


def parts_in_flight(part_size: int) -> int:
	"""As many parts uploading at once as UPLOAD_BUFFER_MEMORY holds next to the part being encrypted
	(five at PART_SIZE; fewer for the bigger parts of huge files)."""
	return max(1, UPLOAD_BUFFER_MEMORY // part_size - 1)


def encrypted_parts(encryptor: StreamEncryptor, spare: list[bytearray]) -> Iterator[bytearray]:
	"""The object's parts: the header and the first encrypted chunk, then one chunk per part, the last shorter.

	A part is encrypted into a buffer taken from `spare` when there is one, so the uploader recycles
	the buffers of the parts it has sent. Bodies are bytearrays: botocore hashes and sends those in
	single calls that release the GIL, where a file-like body costs a Python call per small read.
	"""
	part_size = encryptor.header.chunk_size + TAG_SIZE
	prefix = encryptor.encoded_header
	while not encryptor.finished:
		body = spare.pop() if spare and not prefix else bytearray(len(prefix) + part_size)
		with memoryview(body) as view:
			view[: len(prefix)] = prefix
			length = len(prefix) + encryptor.encrypt_next_into(view[len(prefix) :])
		del body[length:]
		prefix = b""
		yield body


def _upload_parts(client, bucket: str, key: str, upload_id: str, encryptor: StreamEncryptor) -> list[dict]:
	"""Upload parts with a few in flight while the next one is encrypted; a finished part's buffer is reused."""
	part_size = encryptor.header.chunk_size + TAG_SIZE
	limit = parts_in_flight(part_size)
	spare: list[bytearray] = []
	done: list[dict] = []

	def send(number: int, body: bytearray) -> dict:
		response = client.upload_part(
			Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=body
		)
		return {"PartNumber": number, "ETag": response["ETag"]}

	in_flight: dict[Future, bytearray] = {}
	with ThreadPoolExecutor(max_workers=limit) as pool:
		try:
			for number, body in enumerate(encrypted_parts(encryptor, spare), start=1):
				in_flight[pool.submit(send, number, body)] = body
				if len(in_flight) >= limit:
					finished, _ = wait(in_flight, return_when=FIRST_COMPLETED)
					for future in finished:
						done.append(future.result())
						sent = in_flight.pop(future)
						if len(sent) == part_size:
							spare.append(sent)
			for future in in_flight:
				done.append(future.result())
		except BaseException:
			for future in in_flight:
				future.cancel()
			raise
	return sorted(done, key=lambda part: part["PartNumber"])


def abort_stale_uploads(
	client,
	bucket: str,
	prefix: str = "",
	older_than: timedelta = timedelta(hours=6),
	only_key: str | None = None,
) -> int:
	"""Abort multipart uploads under `prefix` (or of exactly `only_key`) started more than `older_than`
	ago; how many were aborted."""
	cutoff = datetime.now(timezone.utc) - older_than
	aborted = 0
	try:
		paginator = client.get_paginator("list_multipart_uploads")
		for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
			for upload in page.get("Uploads", []):
				if upload["Initiated"] <= cutoff and only_key in (None, upload["Key"]):
					client.abort_multipart_upload(
						Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"]
					)
					aborted += 1
	except (ClientError, BotoCoreError) as error:
		raise service_error(error, "Cleaning up unfinished uploads") from error
	return aborted


def open_decrypted(
	client, bucket: str, key: str, keyring: BackupKeyring, site: str
) -> tuple[BackupHeader, Iterator[bytes]]:
	"""The header and a stream of authenticated plaintext chunks of one object, for serving a restore.

	The iterator raises BackupIntegrityError on tampering or truncation (before yielding the bad part)
	and closes the connection to MinIO when it ends.
	"""
	try:
		response = client.get_object(Bucket=bucket, Key=key)
	except (ClientError, BotoCoreError) as error:
		raise service_error(error, f"Downloading {key}") from error
	body = response["Body"]
	try:
		header, chunks = decrypted_chunks(body, keyring, site)
		stored_digest = response.get("Metadata", {}).get("plaintext-sha256")
		if stored_digest and stored_digest != header.plaintext_sha256.hex():
			raise BackupIntegrityError(
				f"{key}: the checksum in the object metadata does not match its content."
			)
	except BaseException:
		body.close()
		raise
	return header, _closing(chunks, body, key)


def _closing(chunks: Iterator[bytes], body, key: str) -> Iterator[bytes]:
	try:
		yield from chunks
	except BotoCoreError as error:
		raise service_error(error, f"Downloading {key}") from error
	finally:
		body.close()


def download_encrypted(
	client, bucket: str, key: str, destination: BinaryIO, keyring: BackupKeyring, site: str
) -> BackupHeader:
	"""Stream an object, decrypting and verifying it into `destination` (which holds garbage on error)."""
	header, chunks = open_decrypted(client, bucket, key, keyring, site)
	for chunk in chunks:
		destination.write(chunk)
	return header


def download_backup_file(
	client, bucket: str, key: str, destination: Path, keyring: BackupKeyring, site: str
) -> BackupHeader:
	"""Download and verify into `destination`; the file appears only once verified, never half-written."""
	partial = destination.with_name(destination.name + ".partial")
	try:
		with open(partial, "wb") as output:
			header = download_encrypted(client, bucket, key, output, keyring, site)
		partial.replace(destination)
	finally:
		partial.unlink(missing_ok=True)
	return header


def presigned_download_url(client, bucket: str, key: str, expires_in: int) -> str:
	"""A time-limited GET URL for one object (it serves the encrypted bytes as stored)."""
	if not 0 < expires_in <= MAX_PRESIGNED_EXPIRY:
		raise ConfigurationError(
			f"MinIO: presigned URL expiry must be between 1 and {MAX_PRESIGNED_EXPIRY} seconds (7 days)."
		)
	return client.generate_presigned_url(
		"get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=expires_in
	)


# --- listing and pruning -----------------------------------------------------------------------------


def list_backup_sets(client, bucket: str, site: str) -> list[BackupSet]:
	"""The site's backup sets, newest first, each with its objects' keys and sizes."""
	prefix = f"{SITES_PREFIX}{site}/"
	sets: dict[str, list[StoredBackupFile]] = {}
	try:
		for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
			for item in page.get("Contents", []):
				stamp, _, name = item["Key"][len(prefix) :].partition("/")
				kind = next((kind for kind in BACKUP_KINDS if name.startswith(kind + "-")), "")
				sets.setdefault(stamp, []).append(
					StoredBackupFile(kind, item["Key"], item["Size"], -1, "", "")
				)
	except (ClientError, BotoCoreError) as error:
		raise service_error(error, f"Listing the backups of {site}") from error
	result = []
	for stamp, stored in sets.items():
		try:
			taken_at = datetime.strptime(stamp, TIMESTAMP_FORMAT).replace(tzinfo=timezone.utc)
		except ValueError:
			continue  # not one of ours: never touch it
		result.append(BackupSet(site, taken_at, f"{prefix}{stamp}/", tuple(stored)))
	return sorted(result, key=lambda backup_set: backup_set.taken_at, reverse=True)


def delete_backup_sets(client, bucket: str, sets: Iterable[BackupSet]) -> list[str]:
	"""Delete every object of the given sets (versioning keeps them recoverable until noncurrent expiry)."""
	keys = [stored.key for backup_set in sets for stored in backup_set.files]
	try:
		for start in range(0, len(keys), 1000):
			batch = [{"Key": key} for key in keys[start : start + 1000]]
			response = client.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})
			if response.get("Errors"):
				first = response["Errors"][0]
				raise ServiceRejectedError(
					SERVICE, f"Deleting {first.get('Key')} was refused", code=first.get("Code")
				)
	except (ClientError, BotoCoreError) as error:
		raise service_error(error, "Deleting old backups") from error
	return keys


def prune_backup_sets(
	client, bucket: str, site: str, policy: RetentionPolicy, now: datetime
) -> list[BackupSet]:
	"""Delete the site's backup sets that the retention policy does not keep; the deleted sets.

	Only complete sets count for the policy, so a failed attempt never takes the place of a good
	backup; incomplete sets are left for their retry, then deleted once older than a day.
	"""
	sets = list_backup_sets(client, bucket, site)
	doomed = backups_to_delete(
		[backup_set.taken_at for backup_set in sets if backup_set.complete], policy, now
	)
	deleted = [
		backup_set
		for backup_set in sets
		if backup_set.taken_at in doomed
		or (not backup_set.complete and backup_set.taken_at < now - INCOMPLETE_SET_GRACE)
	]
	delete_backup_sets(client, bucket, deleted)
	return deleted
