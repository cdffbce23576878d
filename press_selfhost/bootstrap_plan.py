"""What Press needs to run without Ansible, Route 53, GitHub or a build server, as a plan of plain data.

`plan_bootstrap(settings, snapshot, capabilities)` compares the records self-hosting needs with the
records that exist and returns, in dependency order, one action per record: create, update (only the
fields that differ) or unchanged. It never imports frappe: the shell (`bootstrap.py`) reads the
snapshot, applies the actions and supplies what the installed Press offers, so one plan serves the
Press of Feb 2025 and newer ones (e.g. the "Generic" DNS provider appeared later).

Snapshot convention: `{doctype: {name: {fieldname: value}}}`, scalar fields only; a secret (Password
field) is represented by `fingerprint(secret)`, so secrets are compared without being read into it.
Child tables are written when a record is created and not compared afterwards.
"""

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import Enum

from press_selfhost.errors import ConfigurationError

Snapshot = Mapping[str, Mapping[str, Mapping[str, object]]]

APP_SERVER_HOSTNAME = "f1"
PROXY_SERVER_HOSTNAME = "n1"
DATABASE_SERVER_HOSTNAME = "m1"
# Root Domain needs AWS keys when Route 53 is the only provider; nothing calls AWS with these
# because no server has an `ip` and every site lives in the Root Domain's default cluster.
UNUSED_AWS_KEY = "unused-by-press-selfhost"


class Operation(Enum):
	CREATE = "create"
	UPDATE = "update"
	UNCHANGED = "unchanged"


class InsertMethod(Enum):
	INSERT = "insert"  # doc.insert(): validation and hooks run
	DB_INSERT = "db_insert"  # doc.db_insert(): no validation, no hooks


@dataclass(frozen=True)
class Ref:
	"""The name of a record that an earlier action creates and Press names on insert."""

	key: str


@dataclass(frozen=True)
class SitePlanSpec:
	"""A Press Site Plan; its name is the Lago plan code it maps to. Price 0: Lago bills, not Press."""

	name: str
	title: str


@dataclass(frozen=True)
class BootstrapSettings:
	"""Everything the plan depends on, read from Selfhost Settings by the shell."""

	domain: str
	admin_email: str
	app_server_private_ip: str
	proxy_server_private_ip: str
	database_server_private_ip: str
	app_agent_password: str
	proxy_agent_password: str
	mariadb_root_password: str
	bench_image: str
	cluster: str = "Default"  # the cluster Press's own install creates, reused and made Generic
	frappe_version: str = "Version 15"
	frappe_repository_url: str = "https://github.com/frappe/frappe"
	frappe_branch: str = "version-15"
	release_group_title: str = "Self-hosted"
	gunicorn_workers: int = 2
	background_workers: int = 1
	site_plans: tuple[SitePlanSpec, ...] = (SitePlanSpec("selfhost-free", "Free"),)
	minio_endpoint_url: str = ""
	minio_region: str = "us-east-1"
	minio_access_key: str = ""
	minio_secret_key: str = ""
	backups_bucket: str = ""
	smtp_host: str = ""
	smtp_port: int = 25
	smtp_username: str = ""
	smtp_password: str = ""
	smtp_use_tls: bool = False
	mail_from_address: str = ""
	keycloak_url: str = ""
	keycloak_realm: str = ""
	keycloak_client_id: str = ""
	keycloak_client_secret: str = ""

	def server_name(self, hostname: str) -> str:
		"""Press names servers `hostname.domain`; Traefik aliases and agent certificates use these names."""
		return f"{hostname}.{self.domain}"


@dataclass(frozen=True)
class PressCapabilities:
	"""What the installed Press offers, read from DocType meta by the shell.

	`fields`: fieldnames per DocType (parents and child tables); a field the installed Press lacks
	is left out of the plan. `select_options`: options of the Select fields the plan chooses from,
	keyed "DocType.fieldname".
	"""

	fields: Mapping[str, frozenset[str]]
	select_options: Mapping[str, tuple[str, ...]]

	def has_field(self, doctype: str, fieldname: str) -> bool:
		return fieldname in self.fields.get(doctype, frozenset())

	def options(self, doctype: str, fieldname: str) -> tuple[str, ...]:
		return tuple(self.select_options.get(f"{doctype}.{fieldname}", ()))


@dataclass(frozen=True)
class Action:
	"""One record: how to find it, what to write, how to insert it and why it is needed."""

	key: str
	doctype: str
	name: str | None  # None while Press has not named the record yet (named on insert)
	lookup: Mapping[str, object]
	operation: Operation
	fields: Mapping[str, object]
	children: Mapping[str, tuple[Mapping[str, object], ...]] = field(default_factory=dict)
	# how to create it; a record created with DB_INSERT is also updated without hooks
	insert_method: InsertMethod = InsertMethod.INSERT
	secret_fields: frozenset[str] = frozenset()
	# written without hooks after insert or save, because a Press hook would overwrite them
	hook_free_fields: frozenset[str] = frozenset()
	reason: str = ""

	def printable_fields(self) -> dict[str, object]:
		"""The fields with every secret replaced, safe for a terminal or a log."""
		return {
			fieldname: "********" if fieldname in self.secret_fields else _printable(value)
			for fieldname, value in self.fields.items()
		}


@dataclass(frozen=True)
class _Record:
	"""A record as self-hosting wants it, before it is compared with the snapshot."""

	key: str
	doctype: str
	lookup: Mapping[str, object]
	fields: Mapping[str, object]
	name: str | None = None
	children: Mapping[str, tuple[Mapping[str, object], ...]] = field(default_factory=dict)
	create_only: frozenset[str] = frozenset()
	secret_fields: frozenset[str] = frozenset()
	insert_method: InsertMethod = InsertMethod.INSERT
	hook_free_fields: frozenset[str] = frozenset()
	reason: str = ""


def fingerprint(secret: str) -> str:
	"""How a secret appears in a snapshot: comparable, not reversible, never the secret itself.

	No secret is "" on both sides, so an unset Password field matches an empty setting.
	"""
	return "sha256:" + hashlib.sha256(secret.encode()).hexdigest() if secret else ""


def plan_bootstrap(
	settings: BootstrapSettings, snapshot: Snapshot, capabilities: PressCapabilities
) -> list[Action]:
	"""The ordered actions that bring `snapshot` to what self-hosting needs; unchanged ones included."""
	_check_settings(settings)
	resolved: dict[str, object] = {}
	actions = []
	for record in _records(settings, capabilities):
		record = _resolve_refs(record, resolved)
		record = _keep_known_fields(record, capabilities)
		existing_name = _find(snapshot.get(record.doctype, {}), record)
		if existing_name is None:
			action = Action(
				key=record.key,
				doctype=record.doctype,
				name=record.name,
				lookup=record.lookup,
				operation=Operation.CREATE,
				fields=dict(record.fields),
				children=record.children,
				insert_method=record.insert_method,
				secret_fields=record.secret_fields,
				hook_free_fields=record.hook_free_fields,
				reason=record.reason,
			)
			resolved[record.key] = record.name if record.name else Ref(record.key)
		else:
			current = snapshot[record.doctype][existing_name]
			changed = {
				fieldname: value
				for fieldname, value in record.fields.items()
				if fieldname not in record.create_only
				and not _same(
					fingerprint(value) if fieldname in record.secret_fields else value, current.get(fieldname)
				)
			}
			action = Action(
				key=record.key,
				doctype=record.doctype,
				name=existing_name,
				lookup=record.lookup,
				operation=Operation.UPDATE if changed else Operation.UNCHANGED,
				fields=changed,
				insert_method=record.insert_method,
				secret_fields=record.secret_fields & changed.keys(),
				hook_free_fields=record.hook_free_fields & changed.keys(),
				reason=record.reason,
			)
			resolved[record.key] = existing_name
		actions.append(action)
	return actions


def planned_secret_fields(
	settings: BootstrapSettings, capabilities: PressCapabilities
) -> dict[str, frozenset[str]]:
	"""The Password fields the plan compares, per DocType: the shell fingerprints these in the snapshot."""
	secret_fields: dict[str, frozenset[str]] = {}
	for record in _records(settings, capabilities):
		if record.secret_fields:
			secret_fields[record.doctype] = (
				secret_fields.get(record.doctype, frozenset()) | record.secret_fields
			)
	return secret_fields


def named(action: Action, names: Mapping[str, str]) -> tuple[dict, dict]:
	"""The action's fields and child rows with every Ref replaced by the name its record got on insert."""

	def name_of(value):
		return names[value.key] if isinstance(value, Ref) else value

	fields = {k: name_of(v) for k, v in action.fields.items()}
	children = {
		table: [{k: name_of(v) for k, v in row.items()} for row in rows]
		for table, rows in action.children.items()
	}
	return fields, children


def summary_rows(actions: list[Action]) -> list[tuple[str, str, str, str]]:
	"""(operation, doctype, name, fields) per action, for the table `bootstrap` prints; no secrets."""
	rows = []
	for action in actions:
		name = action.name or "(new) " + ", ".join(f"{k}={_printable(v)}" for k, v in action.lookup.items())
		shown = action.printable_fields()
		operation = action.operation.value
		if action.operation is not Operation.UNCHANGED and action.insert_method is InsertMethod.DB_INSERT:
			operation += " (no hooks)"
		rows.append((operation, action.doctype, name, ", ".join(f"{k}={v}" for k, v in shown.items())))
	return rows


def missing_settings(settings: BootstrapSettings) -> list[str]:
	"""The Selfhost Settings fieldnames bootstrap cannot do without that are empty."""
	required = {
		"domain": settings.domain,
		"bootstrap_admin_email": settings.admin_email,
		"app_server_private_ip": settings.app_server_private_ip,
		"proxy_server_private_ip": settings.proxy_server_private_ip,
		"database_server_private_ip": settings.database_server_private_ip,
		"agent_password": settings.app_agent_password,
		"proxy_agent_password": settings.proxy_agent_password,
		"mariadb_root_password": settings.mariadb_root_password,
		"bench_image": settings.bench_image,
	}
	return [fieldname for fieldname, value in required.items() if not value]


def _check_settings(settings: BootstrapSettings) -> None:
	missing = missing_settings(settings)
	if missing:
		raise ConfigurationError(
			f"Bootstrap needs these Selfhost Settings: {', '.join(missing)}. Set them, then run "
			"`bench --site <site> press-selfhost bootstrap` again."
		)


def settings_from_values(values: Mapping[str, object]) -> BootstrapSettings:
	"""BootstrapSettings from a Selfhost Settings record as a dict, Password fields already decrypted."""

	def text(fieldname: str, default: str = "") -> str:
		value = values.get(fieldname)
		return str(value).strip() if value not in (None, "") else default

	def number(fieldname: str, default: int) -> int:
		value = values.get(fieldname)
		return int(value) if value not in (None, "", 0) else default

	defaults = BootstrapSettings(*[""] * 9)
	return BootstrapSettings(
		domain=text("domain"),
		admin_email=text("bootstrap_admin_email"),
		app_server_private_ip=text("app_server_private_ip"),
		proxy_server_private_ip=text("proxy_server_private_ip"),
		database_server_private_ip=text("database_server_private_ip"),
		app_agent_password=text("agent_password"),
		proxy_agent_password=text("proxy_agent_password"),
		mariadb_root_password=text("mariadb_root_password"),
		bench_image=text("bench_image"),
		cluster=text("cluster_name", defaults.cluster),
		frappe_version=text("frappe_version", defaults.frappe_version),
		frappe_branch=text("frappe_branch", defaults.frappe_branch),
		site_plans=parse_site_plans(text("site_plans")) or defaults.site_plans,
		minio_endpoint_url=text("minio_endpoint_url"),
		minio_region=text("minio_region", defaults.minio_region),
		minio_access_key=text("minio_access_key"),
		minio_secret_key=text("minio_secret_key"),
		backups_bucket=text("backups_bucket"),
		smtp_host=text("postal_smtp_host"),
		smtp_port=number("postal_smtp_port", defaults.smtp_port),
		smtp_username=text("postal_smtp_username"),
		smtp_password=text("postal_smtp_password"),
		smtp_use_tls=bool(values.get("postal_smtp_use_tls")),
		mail_from_address=text("postal_from_address"),
		keycloak_url=text("keycloak_url"),
		keycloak_realm=text("keycloak_realm"),
		keycloak_client_id=text("keycloak_client_id"),
		keycloak_client_secret=text("keycloak_client_secret"),
	)


def parse_site_plans(text: str) -> tuple[SitePlanSpec, ...]:
	"""Site plans from lines `lago-plan-code = Title` (the title defaults to the code)."""
	plans = []
	for line in text.splitlines():
		line = line.strip()
		if not line or line.startswith("#"):
			continue
		code, _, title = (part.strip() for part in line.partition("="))
		if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,139}", code):
			raise ConfigurationError(
				f"Site plans: '{code}' is not a Lago plan code (letters, digits, '-', '_' and '.')."
			)
		plans.append(SitePlanSpec(code, title or code))
	return tuple(plans)


def summary_table(actions: list[Action]) -> str:
	"""The plan as an aligned text table (operation, doctype, name, fields); no secrets."""
	header = ("ACTION", "DOCTYPE", "NAME", "FIELDS")
	rows = [header, *summary_rows(actions)]
	widths = [max(len(row[column]) for row in rows) for column in range(3)]
	return "\n".join(
		"  ".join(cell.ljust(width) for cell, width in zip(row[:3], widths, strict=True)) + "  " + row[3]
		for row in rows
	).rstrip()


def _records(settings: BootstrapSettings, capabilities: PressCapabilities) -> list[_Record]:
	"""Every record self-hosting needs, in the order Press's links and hooks require."""
	records = _infrastructure(settings, capabilities)
	records += _backup_bucket(settings)
	records.append(_press_settings(settings))
	records += _team_and_bench(settings)
	records += [
		_Record(
			key=f"Site Plan {plan.name}",
			doctype="Site Plan",
			name=plan.name,
			lookup={"name": plan.name},
			fields={
				"plan_title": plan.title,
				"document_type": "Site",
				"interval": "Daily",
				"price_inr": 0,
				"price_usd": 0,
				"enabled": 1,
			},
			reason="maps Lago plan code to a Press plan; price 0 so Press never bills (Lago does)",
		)
		for plan in settings.site_plans
	]
	records += _services(settings, capabilities)
	return records


def _infrastructure(settings: BootstrapSettings, capabilities: PressCapabilities) -> list[_Record]:
	domain = settings.domain
	dns_providers = capabilities.options("Root Domain", "dns_provider")
	if "Generic" in dns_providers:
		dns = {"dns_provider": "Generic"}
		dns_reason = "DNS provider Generic: Press makes no DNS calls"
	elif "AWS Route 53" in dns_providers:
		dns = {
			"dns_provider": "AWS Route 53",
			"aws_access_key_id": UNUSED_AWS_KEY,
			"aws_secret_access_key": UNUSED_AWS_KEY,
		}
		dns_reason = "this Press only offers Route 53; the keys are placeholders that are never used"
	else:
		raise ConfigurationError(
			"The installed Press offers no DNS provider press_selfhost knows for Root Domain "
			f"(offered: {', '.join(dns_providers) or 'none'}); update press_selfhost or Press."
		)
	app_server = settings.server_name(APP_SERVER_HOSTNAME)
	proxy_server = settings.server_name(PROXY_SERVER_HOSTNAME)
	database_server = settings.server_name(DATABASE_SERVER_HOSTNAME)
	server_common = {"domain": domain, "cluster": settings.cluster, "status": "Active"}
	no_ansible = "status Active and no `ip`: no Ansible, no SSH, no Route 53 record"
	return [
		_Record(
			key="TLS Certificate",
			doctype="TLS Certificate",
			name=f"*.{domain}",
			lookup={"name": f"*.{domain}"},
			fields={
				"domain": domain,
				"wildcard": 1,
				"status": "Active",
				"rsa_key_size": "2048",
				"provider": "Other",
			},
			create_only=frozenset({"rsa_key_size"}),
			insert_method=InsertMethod.DB_INSERT,
			reason="Traefik holds the real wildcard certificate; db_insert skips certbot, "
			"provider Other keeps Press's renewal away",
		),
		_Record(
			key="Cluster",
			doctype="Cluster",
			name=settings.cluster,
			lookup={"name": settings.cluster},
			fields={"cloud_provider": "Generic", "title": settings.cluster, "public": 1},
			reason="Generic provider: no cloud API calls",
		),
		_Record(
			key="Root Domain",
			doctype="Root Domain",
			name=domain,
			lookup={"name": domain},
			fields={**dns, "default_cluster": settings.cluster},
			secret_fields=frozenset({"aws_secret_access_key"}) & dns.keys(),
			reason=dns_reason,
		),
		_Record(
			key="Proxy Server",
			doctype="Proxy Server",
			name=proxy_server,
			lookup={"name": proxy_server},
			fields={
				"hostname": PROXY_SERVER_HOSTNAME,
				**server_common,
				"private_ip": settings.proxy_server_private_ip,
				"is_primary": 1,
				"agent_password": settings.proxy_agent_password,
				# Newer Press sends agent requests for servers without `ip` through this proxy
				# (https://n1/<server>:443/agent/...); Traefik reaches each agent by name instead.
				"use_as_proxy_for_agent_and_metrics": 0,
			},
			children={"domains": ({"domain": domain},)},
			secret_fields=frozenset({"agent_password"}),
			hook_free_fields=frozenset({"use_as_proxy_for_agent_and_metrics"}),
			reason=f"press_selfhost's proxy service; {no_ansible}",
		),
		_Record(
			key="Database Server",
			doctype="Database Server",
			name=database_server,
			lookup={"name": database_server},
			fields={
				"hostname": DATABASE_SERVER_HOSTNAME,
				**server_common,
				"private_ip": settings.database_server_private_ip,
				"is_primary": 1,
				"mariadb_root_password": settings.mariadb_root_password,
			},
			secret_fields=frozenset({"mariadb_root_password"}),
			reason=f"the compose MariaDB, whose root password Press sends for new sites; {no_ansible}",
		),
		_Record(
			key="Server",
			doctype="Server",
			name=app_server,
			lookup={"name": app_server},
			fields={
				"hostname": APP_SERVER_HOSTNAME,
				**server_common,
				"private_ip": settings.app_server_private_ip,
				"proxy_server": proxy_server,
				"database_server": database_server,
				"is_primary": 1,
				"public": 1,
				"use_for_new_benches": 1,
				"use_for_new_sites": 1,
				"agent_password": settings.app_agent_password,
			},
			secret_fields=frozenset({"agent_password"}),
			reason=f"the stock Agent's container; {no_ansible}",
		),
	]


def _backup_bucket(settings: BootstrapSettings) -> list[_Record]:
	if not (settings.minio_endpoint_url and settings.backups_bucket):
		return []
	return [
		_Record(
			key="Backup Bucket",
			doctype="Backup Bucket",
			name=settings.backups_bucket,
			lookup={"name": settings.backups_bucket},
			fields={
				"bucket_name": settings.backups_bucket,
				"cluster": settings.cluster,
				"region": settings.minio_region,
				"endpoint_url": settings.minio_endpoint_url,
			},
			reason="offsite backups of the cluster go to MinIO",
		)
	]


def _press_settings(settings: BootstrapSettings) -> _Record:
	"""Press Settings (a Single): the platform's domain and cluster, no frappe.io, MinIO's keys."""
	fields: dict[str, object] = {
		"domain": settings.domain,
		"cluster": settings.cluster,
		# Newer Press pushes each team's billing details to frappe.io on save unless this is set.
		"disable_frappe_auth": 1,
	}
	if settings.minio_endpoint_url and settings.backups_bucket:
		fields |= {
			"aws_s3_bucket": settings.backups_bucket,
			"offsite_backups_access_key_id": settings.minio_access_key,
			"offsite_backups_secret_access_key": settings.minio_secret_key,
		}
	return _Record(
		key="Press Settings",
		doctype="Press Settings",
		name="Press Settings",
		lookup={"name": "Press Settings"},
		fields=fields,
		secret_fields=frozenset({"offsite_backups_secret_access_key"}) & fields.keys(),
		# saving it through the form would demand certbot settings that self-hosting never uses
		insert_method=InsertMethod.DB_INSERT,
		reason="the platform's defaults; frappe.io sync off; offsite backups to MinIO",
	)


def _team_and_bench(settings: BootstrapSettings) -> list[_Record]:
	app_server = settings.server_name(APP_SERVER_HOSTNAME)
	docker_repository, _, docker_tag = settings.bench_image.rpartition(":")
	if not docker_repository or "/" in docker_tag:
		docker_repository, docker_tag = settings.bench_image, "latest"
	# Any 40 hex characters will do (nothing clones it); derived so a second run finds the same release.
	release_hash = hashlib.sha1(  # noqa: S324 - an identifier, not a security measure
		f"{settings.frappe_repository_url}@{settings.frappe_branch}".encode()
	).hexdigest()
	team = Ref("Team")
	source = Ref("App Source")
	return [
		_Record(
			key="User",
			doctype="User",
			name=settings.admin_email,
			lookup={"name": settings.admin_email},
			fields={"email": settings.admin_email, "first_name": "Platform admin", "send_welcome_email": 0},
			create_only=frozenset({"first_name", "send_welcome_email"}),
			reason="owner of the platform's own team",
		),
		_Record(
			key="Team",
			doctype="Team",
			lookup={"user": settings.admin_email},
			fields={"user": settings.admin_email, "enabled": 1, "free_account": 1},
			children={"team_members": ({"user": settings.admin_email},)},
			reason="owns the apps, release group and bench; free_account so Press never bills",
		),
		_Record(
			key="App",
			doctype="App",
			name="frappe",
			lookup={"name": "frappe"},
			fields={"title": "Frappe Framework"},
			reason="the framework every bench runs",
		),
		_Record(
			key="App Source",
			doctype="App Source",
			lookup={
				"app": "frappe",
				"repository_url": settings.frappe_repository_url,
				"branch": settings.frappe_branch,
			},
			fields={
				"app": "frappe",
				"app_title": "Frappe Framework",
				"repository_url": settings.frappe_repository_url,
				"branch": settings.frappe_branch,
				"team": team,
				"public": 1,
				"enabled": 1,
				"last_github_poll_failed": 1,
			},
			children={"versions": ({"version": settings.frappe_version},)},
			create_only=frozenset({"team"}),  # an existing public source keeps its owner
			reason="last_github_poll_failed=1: Press never polls GitHub for it",
		),
		_Record(
			key="App Release",
			doctype="App Release",
			lookup={"source": source, "hash": release_hash},
			fields={
				"app": "frappe",
				"source": source,
				"hash": release_hash,
				"team": team,
				"status": "Approved",
				"cloned": 1,
			},
			create_only=frozenset({"status", "cloned", "team"}),
			reason="the code in the bench image, as a release Press can deploy",
		),
		_Record(
			key="Release Group",
			doctype="Release Group",
			lookup={"title": settings.release_group_title},
			fields={
				"title": settings.release_group_title,
				"version": settings.frappe_version,
				"team": team,
				"public": 1,
				"enabled": 1,
			},
			children={
				"apps": (
					{"app": "frappe", "source": source, "title": "Frappe Framework", "enable_auto_deploy": 0},
				),
				"servers": ({"server": app_server, "default": 1},),
			},
			reason="where new sites go; auto-deploy off so no build is ever started",
		),
		_Record(
			key="Deploy Candidate",
			doctype="Deploy Candidate",
			lookup={"group": Ref("Release Group")},
			fields={
				"group": Ref("Release Group"),
				"team": team,
				"status": "Success",
				"docker_image": settings.bench_image,
				"docker_image_repository": docker_repository,
				"docker_image_tag": docker_tag,
			},
			children={
				"apps": (
					{
						"app": "frappe",
						"source": source,
						"release": Ref("App Release"),
						"hash": release_hash,
						"title": "Frappe Framework",
						"app_name": "frappe",
					},
				),
			},
			create_only=frozenset({"status"}),
			reason="the image compose builds, recorded as a successful build (none runs)",
		),
		_Record(
			key="Bench",
			doctype="Bench",
			lookup={"group": Ref("Release Group"), "server": app_server},
			fields={
				"group": Ref("Release Group"),
				"server": app_server,
				"candidate": Ref("Deploy Candidate"),
				"status": "Active",
				"docker_image": settings.bench_image,
				"gunicorn_workers": settings.gunicorn_workers,
				"background_workers": settings.background_workers,
				"cluster": settings.cluster,
				"team": team,
				"database_server": settings.server_name(DATABASE_SERVER_HOSTNAME),
			},
			create_only=frozenset({"status", "candidate"}),
			reason="inserted normally: its 'New Bench' Agent Job makes the stock Agent start the bench",
		),
	]


def _services(settings: BootstrapSettings, capabilities: PressCapabilities) -> list[_Record]:
	records = []
	if settings.smtp_host and settings.mail_from_address:
		records.append(
			_Record(
				key="Email Account",
				doctype="Email Account",
				name="Postal",
				lookup={"name": "Postal"},
				fields={
					"email_account_name": "Postal",
					"email_id": settings.mail_from_address,
					"enable_outgoing": 1,
					"default_outgoing": 1,
					"smtp_server": settings.smtp_host,
					"smtp_port": settings.smtp_port,
					"use_tls": int(settings.smtp_use_tls),
					"login_id_is_different": int(bool(settings.smtp_username)),
					"login_id": settings.smtp_username,
					"no_smtp_authentication": int(not settings.smtp_password),
					"password": settings.smtp_password,
				},
				secret_fields=frozenset({"password"}),
				reason="Press's own mail (signup codes, notices) goes out through Postal's SMTP",
			)
		)
	if settings.keycloak_url and settings.keycloak_realm and settings.keycloak_client_id:
		offered = capabilities.options("Social Login Key", "social_login_provider")
		records.append(
			_Record(
				key="Social Login Key",
				doctype="Social Login Key",
				name="keycloak",
				lookup={"name": "keycloak"},
				fields={
					"provider_name": "Keycloak",
					"social_login_provider": "Keycloak" if "Keycloak" in offered else "Custom",
					"enable_social_login": 1,
					"client_id": settings.keycloak_client_id,
					"client_secret": settings.keycloak_client_secret,
					"custom_base_url": 1,
					"base_url": f"{settings.keycloak_url.rstrip('/')}/realms/{settings.keycloak_realm}",
					"authorize_url": "/protocol/openid-connect/auth",
					"access_token_url": "/protocol/openid-connect/token",
					"api_endpoint": "/protocol/openid-connect/userinfo",
					"redirect_url": "/api/method/frappe.integrations.oauth2_logins.login_via_keycloak/keycloak"
					if "Keycloak" in offered
					else "/api/method/frappe.integrations.oauth2_logins.custom/keycloak",
					"user_id_property": "sub",
					"auth_url_data": '{"response_type": "code", "scope": "openid email profile"}',
				},
				secret_fields=frozenset({"client_secret"}),
				reason="dashboard login through the Keycloak realm (OIDC)",
			)
		)
	return records


def _resolve_refs(record: _Record, resolved: Mapping[str, object]) -> _Record:
	"""Replace a Ref to a record that already exists by its name; keep it when it is still to be created."""

	def resolve(value):
		return resolved.get(value.key, value) if isinstance(value, Ref) else value

	return replace(
		record,
		lookup={k: resolve(v) for k, v in record.lookup.items()},
		fields={k: resolve(v) for k, v in record.fields.items()},
		children={
			table: tuple({k: resolve(v) for k, v in row.items()} for row in rows)
			for table, rows in record.children.items()
		},
	)


def _keep_known_fields(record: _Record, capabilities: PressCapabilities) -> _Record:
	"""Leave out the fields this Press does not have (they moved or vanished between versions)."""
	known = capabilities.fields.get(record.doctype, frozenset())
	children = {}
	for table, rows in record.children.items():
		if table not in known:
			continue
		child_known = capabilities.fields.get(f"{record.doctype}.{table}", frozenset())
		children[table] = tuple({k: v for k, v in row.items() if k in child_known} for row in rows)
	return replace(
		record,
		fields={k: v for k, v in record.fields.items() if k in known},
		children=children,
		secret_fields=record.secret_fields & known,
		hook_free_fields=record.hook_free_fields & known,
	)


def _find(records: Mapping[str, Mapping[str, object]], record: _Record) -> str | None:
	"""The name of the existing record matching the lookup (the first by name, for stability).

	Names are matched regardless of case, as MariaDB's collation does: "default" would collide with
	an existing "Default" on insert.
	"""
	if any(isinstance(value, Ref) for value in record.lookup.values()):
		return None  # it refers to a record that does not exist yet, so it cannot exist either
	for name in sorted(records):
		values = {**records[name], "name": name}
		if all(
			_normal(value).casefold() == _normal(values.get(key)).casefold()
			if key == "name"
			else _same(value, values.get(key))
			for key, value in record.lookup.items()
		):
			return name
	return None


def _same(wanted: object, current: object) -> bool:
	return _normal(wanted) == _normal(current)


def _normal(value: object) -> str:
	"""Compare as Frappe stores: None is "", booleans are 0/1, 2.0 is 2."""
	if value is None:
		return ""
	if isinstance(value, bool):
		return str(int(value))
	if isinstance(value, float) and value.is_integer():
		return str(int(value))
	return str(value)


def _printable(value: object) -> str:
	return f"<{value.key}>" if isinstance(value, Ref) else str(value)
