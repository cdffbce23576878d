"""Ships Press's local backups to MinIO, encrypted, then prunes each site's backups by retention.

The stock Agent cannot upload to MinIO (its boto3 ignores the endpoint URL), so Press takes backups
without offsite upload and these jobs, running where the benches' files are readable (the
`backup_benches_directory` setting), ship each successful Site Backup as one encrypted set. The
Remote File rows they record carry a restore link to `press_selfhost.backups.download`, so
Press's own restore hands the Agent a URL that serves the decrypted, verified backup.
"""

import json
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

import frappe
from frappe.utils import add_to_date, cint, get_datetime, get_url
from frappe.utils.data import get_system_timezone

from press_selfhost.backups import s3
from press_selfhost.backups.encryption import BackupKeyring
from press_selfhost.backups.restore_links import restore_link_query
from press_selfhost.backups.retention import RetentionPolicy
from press_selfhost.errors import ConfigurationError

# A backup not shipped within this window is left alone (its local files are likely gone); the
# error log of the failed attempts says why.
SHIP_WINDOW_DAYS = 2
DOWNLOAD_ROUTE = "press-selfhost-backup"  # press_selfhost.backups.download.ROUTE, which imports this module
FILE_FIELDS = {
	"database": "database_file",
	"public": "public_file",
	"private": "private_file",
	"site_config": "config_file",
}
REMOTE_FILE_FIELDS = {
	"database": "remote_database_file",
	"public": "remote_public_file",
	"private": "remote_private_file",
	"site_config": "remote_config_file",
}
FILE_TYPES = {"database": "application/x-gzip", "site_config": "application/json"}


@dataclass(frozen=True)
class BackupConfiguration:
	storage: s3.StorageSettings
	keyring: BackupKeyring
	retention: RetentionPolicy
	benches_directory: Path

	@property
	def restore_link_lifetime_seconds(self) -> int:
		"""Links live as long as the backup may (max age plus a day), since Press stores them."""
		return ((self.retention.max_age_days or 3650) + 1) * 24 * 3600


def backup_configuration() -> BackupConfiguration:
	settings = frappe.get_single("Selfhost Settings")
	if not settings.minio_endpoint_url:
		raise ConfigurationError("Backups: set the MinIO endpoint URL in Selfhost Settings.")
	previous = settings.get_password("backup_previous_encryption_keys", raise_exception=False) or ""
	return BackupConfiguration(
		storage=s3.StorageSettings(
			endpoint_url=settings.minio_endpoint_url,
			access_key=settings.minio_access_key or "",
			secret_key=settings.get_password("minio_secret_key", raise_exception=False) or "",
			region=settings.minio_region or "us-east-1",
			backups_bucket=settings.backups_bucket or "backups",
			private_bucket=settings.get("private_bucket") or "private",
			public_bucket=settings.get("public_bucket") or "public",
		),
		keyring=BackupKeyring.from_secrets(
			settings.get_password("backup_encryption_key", raise_exception=False) or "", previous.split()
		),
		retention=RetentionPolicy(
			daily=_int_setting(settings, "backup_keep_daily", 7),
			weekly=_int_setting(settings, "backup_keep_weekly", 4),
			monthly=_int_setting(settings, "backup_keep_monthly", 12),
			max_age_days=_int_setting(settings, "backup_max_age_days", 400) or None,
		),
		benches_directory=Path(settings.get("backup_benches_directory") or "/home/frappe/benches"),
	)


def _int_setting(settings, fieldname: str, default: int) -> int:
	value = settings.get(fieldname)
	return default if value in (None, "") else cint(value)


def ship_pending_backups() -> None:
	"""Scheduler: enqueue one shipping job per successful, not yet offsite Site Backup."""
	if not frappe.db.get_single_value("Selfhost Settings", "minio_endpoint_url"):
		return
	pending = frappe.get_all(
		"Site Backup",
		filters={
			"status": "Success",
			"offsite": 0,
			"files_availability": "Available",
			"creation": (">", add_to_date(None, days=-SHIP_WINDOW_DAYS)),
		},
		pluck="name",
	)
	for name in pending:
		enqueue_shipment(name)


def enqueue_shipment(site_backup: str) -> None:
	"""Ship one Site Backup in a worker of the long queue, once even when asked twice (job id)."""
	frappe.enqueue(
		"press_selfhost.backups.shipper.ship_backup",
		queue="long",
		job_id=f"press_selfhost:ship_backup:{site_backup}",
		deduplicate=True,
		site_backup=site_backup,
	)


def ship_backup(site_backup: str) -> None:
	"""Upload one Site Backup's files, record Remote Files and mark it offsite; then prune the site.

	A failure raises: the job's transaction rolls back (Error Log and RQ Job in the desk show why) and
	the next scheduler run retries; re-uploading is safe, the object keys are deterministic.
	"""
	backup = frappe.get_doc("Site Backup", site_backup)
	if backup.offsite or backup.status != "Success":
		return  # already shipped (a retry) or nothing to ship
	configuration = backup_configuration()
	client = s3.storage_client(configuration.storage)
	backup_set = s3.upload_backup_set(
		client,
		configuration.storage.backups_bucket,
		backup.site,
		_as_utc(backup.creation),
		_local_files(backup, configuration.benches_directory),
		configuration.keyring,
	)
	_record_shipped(backup, backup_set, configuration)
	# Pruning runs in its own job, once this one is committed: a pruning failure never undoes a shipment.
	frappe.enqueue(
		"press_selfhost.backups.shipper.prune_site",
		queue="long",
		job_id=f"press_selfhost:prune_site:{backup.site}",
		deduplicate=True,
		enqueue_after_commit=True,
		site=backup.site,
	)


def _as_utc(moment) -> datetime:
	return get_datetime(moment).replace(tzinfo=ZoneInfo(get_system_timezone())).astimezone(timezone.utc)


def _local_files(backup, benches_directory: Path) -> list[s3.BackupFile]:
	bench = frappe.db.get_value("Site", backup.site, "bench")
	directory = benches_directory / bench / "sites" / backup.site / "private" / "backups"
	files = [
		s3.BackupFile(kind, directory / backup.get(fieldname))
		for kind, fieldname in FILE_FIELDS.items()
		if backup.get(fieldname)
	]
	missing = [str(backup_file.path) for backup_file in files if not backup_file.path.is_file()]
	if missing:
		raise ConfigurationError(
			f"Backups: {', '.join(missing)} not found; check backup_benches_directory in Selfhost Settings "
			"and that this worker can read the benches' backup folders."
		)
	return files


def _record_shipped(backup, backup_set: s3.BackupSet, configuration: BackupConfiguration) -> None:
	bucket = configuration.storage.backups_bucket
	expires = int(time.time()) + configuration.restore_link_lifetime_seconds
	values = {"offsite": 1, "offsite_backup": json.dumps({f.kind: f.key for f in backup_set.files})}
	for stored in backup_set.files:
		query = restore_link_query(configuration.keyring, backup.site, stored.key, expires)
		link = get_url(f"/{DOWNLOAD_ROUTE}/{quote(backup.get(FILE_FIELDS[stored.kind]))}?{query}")
		remote_file = frappe.get_doc(
			{
				"doctype": "Remote File",
				"site": backup.site,
				"file_name": backup.get(FILE_FIELDS[stored.kind]),
				"file_path": stored.key,
				"file_size": stored.plaintext_size,
				"file_type": FILE_TYPES.get(stored.kind, "application/x-tar"),
				"bucket": bucket,
				"url": link,
				"status": "Available",
			}
		).insert(ignore_permissions=True)
		values[REMOTE_FILE_FIELDS[stored.kind]] = remote_file.name
	frappe.db.set_value("Site Backup", backup.name, values)


def prune_site(site: str) -> list[str]:
	"""Delete the site's sets the retention policy drops, then mark every Remote File (and its Site
	Backup) whose object is gone as Unavailable; the keys deleted. Re-running it repairs a partial run."""
	configuration = backup_configuration()
	client = s3.storage_client(configuration.storage)
	bucket = configuration.storage.backups_bucket
	deleted = s3.prune_backup_sets(client, bucket, site, configuration.retention, datetime.now(timezone.utc))
	remaining = {
		stored.key for backup_set in s3.list_backup_sets(client, bucket, site) for stored in backup_set.files
	}
	recorded = frappe.get_all(
		"Remote File",
		filters={
			"site": site,
			"bucket": bucket,
			"status": "Available",
			"file_path": ("like", f"{s3.SITES_PREFIX}%"),
		},
		fields=["name", "file_path"],
	)
	gone = [remote_file.name for remote_file in recorded if remote_file.file_path not in remaining]
	for name in gone:
		frappe.db.set_value("Remote File", name, "status", "Unavailable")
	if gone:
		for name in frappe.get_all(
			"Site Backup", filters={"remote_database_file": ("in", gone)}, pluck="name"
		):
			frappe.db.set_value("Site Backup", name, "files_availability", "Unavailable")
	return [stored.key for backup_set in deleted for stored in backup_set.files]


def abort_stale_uploads() -> None:
	"""Scheduler (daily): remove multipart uploads left by crashed workers; the lifecycle rule is the backstop."""
	if not frappe.db.get_single_value("Selfhost Settings", "minio_endpoint_url"):
		return
	configuration = backup_configuration()
	client = s3.storage_client(configuration.storage)
	s3.abort_stale_uploads(client, configuration.storage.backups_bucket, prefix=s3.SITES_PREFIX)
