"""MinIO's buckets as the platform needs them, made so idempotently and read back for the doctor.

`ensure_buckets` creates the backups, private and public buckets and brings each to its rules
(versioning, lifecycle rules, SSE-S3 default encryption, anonymous read on public/ only);
`bucket_drift` makes the same comparisons without writing. Framework-free.
"""

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from botocore.exceptions import BotoCoreError, ClientError

from press_selfhost.backups.s3 import SITES_PREFIX, StorageSettings, error_code, service_error
from press_selfhost.errors import ConfigurationError


@dataclass(frozen=True)
class BucketRules:
	"""What `ensure_buckets` enforces; `expire_after_days` maps a key prefix of the backups bucket to days."""

	noncurrent_version_days: int = 7
	abort_incomplete_upload_days: int = 1
	expire_after_days: Mapping[str, int] = field(default_factory=lambda: {SITES_PREFIX: 400})


@dataclass
class BucketReport:
	"""What `ensure_buckets` did: an empty `changes` means everything already matched."""

	changes: list[str] = field(default_factory=list)

	def __str__(self) -> str:
		return "\n".join(self.changes) or "All buckets already matched their configuration."


def ensure_buckets(client, settings: StorageSettings, rules: BucketRules | None = None) -> BucketReport:
	"""Create and configure the three buckets; only what differs is written, so a second run changes nothing.

	backups: versioning, lifecycle (noncurrent versions, stale multipart uploads, expiry per prefix),
	SSE-S3 by default, no anonymous access. private: SSE-S3, no anonymous access. public: anonymous
	read-only. We own the lifecycle configuration of these buckets: rules added by hand are replaced.
	"""
	rules = rules or BucketRules()
	report = BucketReport()
	try:
		for bucket in (settings.backups_bucket, settings.private_bucket, settings.public_bucket):
			_ensure_bucket_exists(client, bucket, report)
		_ensure_versioning(client, settings.backups_bucket, report)
		for bucket in (settings.backups_bucket, settings.private_bucket, settings.public_bucket):
			_ensure_lifecycle(client, bucket, _wanted_lifecycle(bucket, settings, rules), report)
		for bucket in (settings.backups_bucket, settings.private_bucket):
			_ensure_default_encryption(client, bucket, report)
			_ensure_not_public(client, bucket, report)
		_ensure_public_read(client, settings.public_bucket, report)
	except (ClientError, BotoCoreError) as error:
		raise service_error(error, "Configuring the buckets") from error
	return report


def bucket_drift(client, settings: StorageSettings, rules: BucketRules | None = None) -> list[str]:
	"""What `ensure_buckets` would change, read without changing anything (for the doctor).

	The same comparisons as `ensure_buckets`, one line per difference; empty means nothing drifted.
	"""
	rules = rules or BucketRules()
	drift = []
	try:
		for bucket in (settings.backups_bucket, settings.private_bucket, settings.public_bucket):
			if not _bucket_exists(client, bucket):
				drift.append(f"bucket {bucket} is missing")
				continue
			wanted_lifecycle = _wanted_lifecycle(bucket, settings, rules)
			if lifecycle_summary(_lifecycle_rules(client, bucket)) != lifecycle_summary(wanted_lifecycle):
				drift.append(f"the lifecycle rules of {bucket} differ")
			if bucket == settings.public_bucket:
				if anonymous_grants(bucket_policy(client, bucket)) != anonymous_grants(
					public_read_policy(bucket)
				):
					drift.append(f"{bucket} is not anonymously readable (and only readable)")
				continue
			if (
				bucket == settings.backups_bucket
				and client.get_bucket_versioning(Bucket=bucket).get("Status") != "Enabled"
			):
				drift.append(f"versioning is off on {bucket}")
			if default_encryption(client, bucket) != "AES256":
				drift.append(f"default encryption (SSE-S3) is off on {bucket}")
			if anonymous_grants(bucket_policy(client, bucket)):
				drift.append(f"a policy gives anonymous access to {bucket}")
	except (ClientError, BotoCoreError) as error:
		raise service_error(error, "Reading the bucket configuration") from error
	return drift


def _bucket_exists(client, bucket: str) -> bool:
	try:
		client.head_bucket(Bucket=bucket)
	except ClientError as error:
		if error_code(error) not in ("404", "NoSuchBucket", "NotFound"):
			raise
		return False
	return True


def _ensure_bucket_exists(client, bucket: str, report: BucketReport) -> None:
	if _bucket_exists(client, bucket):
		return
	client.create_bucket(Bucket=bucket)
	report.changes.append(f"created bucket {bucket}")


def _ensure_versioning(client, bucket: str, report: BucketReport) -> None:
	if client.get_bucket_versioning(Bucket=bucket).get("Status") != "Enabled":
		client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
		report.changes.append(f"enabled versioning on {bucket}")


def _wanted_lifecycle(bucket: str, settings: StorageSettings, rules: BucketRules) -> list[dict]:
	backups = _backup_lifecycle_rules(rules) if bucket == settings.backups_bucket else []
	return _abort_rule(rules) + backups


def _abort_rule(rules: BucketRules) -> list[dict]:
	return [
		{
			"ID": "press-selfhost-abort-incomplete-uploads",
			"Status": "Enabled",
			"Filter": {"Prefix": ""},
			"AbortIncompleteMultipartUpload": {"DaysAfterInitiation": rules.abort_incomplete_upload_days},
		}
	]


def _backup_lifecycle_rules(rules: BucketRules) -> list[dict]:
	wanted = [
		{
			"ID": "press-selfhost-expire-noncurrent-versions",
			"Status": "Enabled",
			"Filter": {"Prefix": ""},
			"NoncurrentVersionExpiration": {"NoncurrentDays": rules.noncurrent_version_days},
		}
	]
	for prefix, days in sorted(rules.expire_after_days.items()):
		wanted.append(
			{
				"ID": f"press-selfhost-expire-{prefix.strip('/').replace('/', '-') or 'all'}",
				"Status": "Enabled",
				"Filter": {"Prefix": prefix},
				"Expiration": {"Days": days},
			}
		)
	return wanted


def lifecycle_summary(rules: Iterable[dict]) -> list[tuple]:
	"""Rules reduced to what we set, in a stable order, so a read-back compares equal to what we wrote."""
	summary = []
	for rule in rules:
		rule_filter = rule.get("Filter", {})
		prefix = rule_filter.get("Prefix", rule_filter.get("And", {}).get("Prefix", rule.get("Prefix", "")))
		summary.append(
			(
				rule.get("ID"),
				rule.get("Status"),
				prefix,
				rule.get("Expiration", {}).get("Days"),
				rule.get("NoncurrentVersionExpiration", {}).get("NoncurrentDays"),
				rule.get("AbortIncompleteMultipartUpload", {}).get("DaysAfterInitiation"),
			)
		)
	return sorted(summary, key=repr)


def _ensure_lifecycle(client, bucket: str, wanted: list[dict], report: BucketReport) -> None:
	if lifecycle_summary(_lifecycle_rules(client, bucket)) != lifecycle_summary(wanted):
		client.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": wanted})
		report.changes.append(f"set {len(wanted)} lifecycle rule(s) on {bucket}")


def _lifecycle_rules(client, bucket: str) -> list[dict]:
	try:
		return client.get_bucket_lifecycle_configuration(Bucket=bucket).get("Rules", [])
	except ClientError as error:
		if error_code(error) != "NoSuchLifecycleConfiguration":
			raise
		return []


def default_encryption(client, bucket: str) -> str | None:
	"""The bucket's default server-side encryption algorithm, or None."""
	try:
		configuration = client.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]
	except ClientError as error:
		if error_code(error) != "ServerSideEncryptionConfigurationNotFoundError":
			raise
		return None
	for rule in configuration.get("Rules", []):
		return rule.get("ApplyServerSideEncryptionByDefault", {}).get("SSEAlgorithm")
	return None


def _ensure_default_encryption(client, bucket: str, report: BucketReport) -> None:
	if default_encryption(client, bucket) != "AES256":
		try:
			client.put_bucket_encryption(
				Bucket=bucket,
				ServerSideEncryptionConfiguration={
					"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
				},
			)
		except ClientError as error:
			# MinIO refuses SSE-S3 until it has a KMS: say so rather than a bare S3 error code.
			raise ConfigurationError(
				f"MinIO refused default encryption (SSE-S3) on {bucket} ({error_code(error)}): give MinIO a "
				"KMS, e.g. MINIO_KMS_SECRET_KEY=<key name>:<base64 of 32 random bytes>, then run this again."
			) from error
		report.changes.append(f"enabled default encryption (SSE-S3) on {bucket}")


def bucket_policy(client, bucket: str) -> dict | None:
	try:
		return json.loads(client.get_bucket_policy(Bucket=bucket)["Policy"])
	except ClientError as error:
		if error_code(error) != "NoSuchBucketPolicy":
			raise
		return None


def public_read_policy(bucket: str) -> dict:
	return {
		"Version": "2012-10-17",
		"Statement": [
			{
				"Sid": "PublicRead",
				"Effect": "Allow",
				"Principal": {"AWS": ["*"]},
				"Action": ["s3:GetObject"],
				"Resource": [f"arn:aws:s3:::{bucket}/*"],
			}
		],
	}


def anonymous_grants(policy: dict | None) -> set[tuple[str, str]]:
	"""(action, resource) pairs the policy allows to anyone, however the server spells the policy."""
	grants = set()
	for statement in (policy or {}).get("Statement", []):
		principal = statement.get("Principal")
		if isinstance(principal, dict):
			principal = principal.get("AWS")
		principals = principal if isinstance(principal, list) else [principal]
		if statement.get("Effect") == "Allow" and "*" in principals:
			for action in _as_list(statement.get("Action")):
				for resource in _as_list(statement.get("Resource")):
					grants.add((action, resource))
	return grants


def _as_list(value) -> list:
	return value if isinstance(value, list) else [value]


def _ensure_public_read(client, bucket: str, report: BucketReport) -> None:
	wanted = public_read_policy(bucket)
	if anonymous_grants(bucket_policy(client, bucket)) != anonymous_grants(wanted):
		client.put_bucket_policy(Bucket=bucket, Policy=json.dumps(wanted))
		report.changes.append(f"set the anonymous read-only policy on {bucket}")


def _ensure_not_public(client, bucket: str, report: BucketReport) -> None:
	if anonymous_grants(bucket_policy(client, bucket)):
		client.delete_bucket_policy(Bucket=bucket)
		report.changes.append(f"removed a policy that gave anonymous access to {bucket}")
