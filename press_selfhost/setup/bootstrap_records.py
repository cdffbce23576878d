"""The Press records self-hosting needs, as plain data: what each holds, how to find it, and why.

This is the catalogue `bootstrap_plan.py` compares with what exists. Each record's fields are
chosen so that inserting it calls no Ansible, Route 53, GitHub, certbot or build server (see
shared/reference/press-bootstrap.md); `PressCapabilities` lets one catalogue serve several Press
versions. Framework-free.
"""

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import Enum
from types import MappingProxyType

from press_selfhost.errors import ConfigurationError

APP_SERVER_HOSTNAME = "f1"
PROXY_SERVER_HOSTNAME = "n1"
DATABASE_SERVER_HOSTNAME = "m1"
# Root Domain needs AWS keys when Route 53 is the only provider; nothing calls AWS with these
# because no server has an `ip` and every site lives in the Root Domain's default cluster.
UNUSED_AWS_KEY = "unused-by-press-selfhost"
# The tenant app (tenant/ of this repository) that the bench image installs beside Frappe. The URL is
# only a label Press needs (owner/repository form): the code is in the image, nothing clones it.
TENANT_APP = "press_selfhost_tenant"
TENANT_APP_TITLE = "Press Selfhost Tenant (single sign-on)"
TENANT_APP_REPOSITORY_URL = "https://github.com/press-selfhost/press_selfhost_tenant"
# Press Settings' offsite backup fields, kept empty: PressSettings.is_offsite_setup() reads them.
PRESS_OFFSITE_FIELDS = ("aws_s3_bucket", "offsite_backups_access_key_id", "offsite_backups_secret_access_key")
# The role Press gives every dashboard customer at signup: "Press User" in newer Press, "Press Admin"
# before it existed. Without it the team owner cannot save its own Sites from the dashboard.
CUSTOMER_ROLES = ("Press User", "Press Admin")
# The records of servers whose agents bootstrap reaches before Press may see them Active.
SERVER_KEYS = ("Proxy Server", "Database Server", "Server")
BENCH_IMAGE_KEY = "Bench image"


class InsertMethod(Enum):
	INSERT = "insert"  # doc.insert(): validation and hooks run
	DB_INSERT = "db_insert"  # doc.db_insert(): no validation, no hooks
	# a child row (e.g. a User's role): appended to its parent, which is saved so its hooks run
	APPEND_TO_PARENT = "append_to_parent"


@dataclass(frozen=True)
class Ref:
	"""The name of a record that an earlier action creates and Press names on insert."""

	key: str


@dataclass(frozen=True)
class SitePlanSpec:
	"""A Press Site Plan; its name is the Lago plan code it maps to (Lago Plan Map), its price Lago's."""

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
	smtp_host: str = ""
	smtp_port: int = 25
	smtp_username: str = ""
	smtp_password: str = ""
	smtp_use_tls: bool = False
	mail_from_address: str = ""
	docker_registry_url: str = ""
	docker_registry_username: str = ""
	docker_registry_password: str = ""

	def server_name(self, hostname: str) -> str:
		"""Press names servers `hostname.domain`; Traefik aliases and agent certificates use these names."""
		return f"{hostname}.{self.domain}"


@dataclass(frozen=True)
class PressCapabilities:
	"""What the installed Press offers, read from DocType meta by the shell.

	`fields`: fieldnames per DocType (parents and child tables); a field the installed Press lacks
	is left out of the plan. `select_options`: options of the Select fields the plan chooses from,
	keyed "DocType.fieldname". `roles`: the Role records, to pick the one Press gives customers.
	"""

	fields: Mapping[str, frozenset[str]]
	select_options: Mapping[str, tuple[str, ...]]
	roles: frozenset[str] = frozenset()

	def has_field(self, doctype: str, fieldname: str) -> bool:
		return fieldname in self.fields.get(doctype, frozenset())

	def options(self, doctype: str, fieldname: str) -> tuple[str, ...]:
		return tuple(self.select_options.get(f"{doctype}.{fieldname}", ()))


@dataclass(frozen=True)
class DesiredRecord:
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
	# Why the record may not be created yet (what it needs has not been reached); "" when it may.
	waiting_for: str = ""


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
		smtp_host=text("postal_smtp_host"),
		smtp_port=number("postal_smtp_port", defaults.smtp_port),
		smtp_username=text("postal_smtp_username"),
		smtp_password=text("postal_smtp_password"),
		smtp_use_tls=bool(values.get("postal_smtp_use_tls")),
		mail_from_address=text("postal_from_address"),
		docker_registry_url=text("docker_registry_url"),
		docker_registry_username=text("docker_registry_username"),
		docker_registry_password=text("docker_registry_password"),
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


def desired_records(
	settings: BootstrapSettings,
	capabilities: PressCapabilities,
	unreached: Mapping[str, str] = MappingProxyType({}),
) -> list[DesiredRecord]:
	"""Every record self-hosting needs, in the order Press's links and hooks require.

	`unreached`: why a server's agent (by record key: "Server", "Proxy Server", "Database Server") or
	the bench image ("Bench image") could not be reached just now. Press only ever sees a server
	Active that bootstrap has reached; the Bench, whose insert makes the Agent start the image, waits
	for both its server and its image.
	"""
	records = _infrastructure(settings, capabilities, unreached)
	records.append(_press_settings(settings))
	records += _team_and_bench(settings, capabilities, unreached)
	records += [record for plan in settings.site_plans for record in _site_plan(plan, capabilities)]
	records += _services(settings, capabilities)
	return records


def _infrastructure(
	settings: BootstrapSettings, capabilities: PressCapabilities, unreached: Mapping[str, str]
) -> list[DesiredRecord]:
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
	server_common = {"domain": domain, "cluster": settings.cluster}
	no_ansible = "no `ip`: no Ansible, no SSH, no Route 53 record"
	records = [
		DesiredRecord(
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
		DesiredRecord(
			key="Cluster",
			doctype="Cluster",
			name=settings.cluster,
			lookup={"name": settings.cluster},
			fields={"cloud_provider": "Generic", "title": settings.cluster, "public": 1},
			reason="Generic provider: no cloud API calls",
		),
		DesiredRecord(
			key="Root Domain",
			doctype="Root Domain",
			name=domain,
			lookup={"name": domain},
			fields={**dns, "default_cluster": settings.cluster},
			secret_fields=frozenset({"aws_secret_access_key"}) & dns.keys(),
			reason=dns_reason,
		),
		DesiredRecord(
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
		DesiredRecord(
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
		DesiredRecord(
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
	return [_server_status(record, unreached) if record.key in SERVER_KEYS else record for record in records]


def _server_status(record: DesiredRecord, unreached: Mapping[str, str]) -> DesiredRecord:
	"""Active once reached (a Pending server is promoted); Pending, and never demoted, while not."""
	why = unreached.get(record.key)
	if why is None:
		return replace(
			record, fields={**record.fields, "status": "Active"}, reason=f"reached; {record.reason}"
		)
	return replace(
		record,
		fields={**record.fields, "status": "Pending"},
		create_only=record.create_only | {"status"},
		reason=f"not reached ({why}): Pending until bootstrap reaches it; {record.reason}",
	)


def _press_settings(settings: BootstrapSettings) -> DesiredRecord:
	"""Press Settings (a Single): the platform's domain and cluster, no frappe.io, no offsite upload.

	Press's offsite keys stay empty (cleared if an earlier bootstrap set them): with them, Press asks
	the stock Agent to upload backups itself, with boto3 to AWS, and the Agent deletes the local files
	when that fails. The backup shipper takes each backup to MinIO instead; no Backup Bucket either.
	"""
	fields: dict[str, object] = {
		"domain": settings.domain,
		"cluster": settings.cluster,
		# Newer Press pushes each team's billing details to frappe.io on save unless this is set.
		"disable_frappe_auth": 1,
		**dict.fromkeys(PRESS_OFFSITE_FIELDS, ""),
	}
	if settings.docker_registry_url:
		# Press sends these with every "New Bench" job; the agent logs in with them to pull the image.
		fields |= {
			"docker_registry_url": settings.docker_registry_url,
			"docker_registry_username": settings.docker_registry_username,
			"docker_registry_password": settings.docker_registry_password,
		}
	return DesiredRecord(
		key="Press Settings",
		doctype="Press Settings",
		name="Press Settings",
		lookup={"name": "Press Settings"},
		fields=fields,
		# docker_registry_password is a Data field in Press, still a secret: fingerprinted, never printed
		secret_fields=frozenset({"offsite_backups_secret_access_key", "docker_registry_password"})
		& fields.keys(),
		# saving it through the form would demand certbot settings that self-hosting never uses
		insert_method=InsertMethod.DB_INSERT,
		reason="the platform's defaults; frappe.io sync off; no offsite upload by the Agent",
	)


def _team_and_bench(
	settings: BootstrapSettings, capabilities: PressCapabilities, unreached: Mapping[str, str]
) -> list[DesiredRecord]:
	app_server = settings.server_name(APP_SERVER_HOSTNAME)
	docker_repository, _, docker_tag = settings.bench_image.rpartition(":")
	if not docker_repository or "/" in docker_tag:
		docker_repository, docker_tag = settings.bench_image, "latest"
	# Any 40 hex characters will do (nothing clones it); derived so a second run finds the same release.
	release_hash = hashlib.sha1(  # noqa: S324 - an identifier, not a security measure
		f"{settings.frappe_repository_url}@{settings.frappe_branch}".encode()
	).hexdigest()
	tenant_hash = hashlib.sha1(f"{TENANT_APP_REPOSITORY_URL}@main".encode()).hexdigest()  # noqa: S324
	team = Ref("Team")
	source = Ref("App Source")
	tenant_source = Ref("Tenant App Source")
	return [
		DesiredRecord(
			key="User",
			doctype="User",
			name=settings.admin_email,
			lookup={"name": settings.admin_email},
			fields={"email": settings.admin_email, "first_name": "Platform admin", "send_welcome_email": 0},
			create_only=frozenset({"first_name", "send_welcome_email"}),
			reason="owner of the platform's own team",
		),
		DesiredRecord(
			key="Team",
			doctype="Team",
			lookup={"user": settings.admin_email},
			fields={"user": settings.admin_email, "enabled": 1, "free_account": 1},
			children={"team_members": ({"user": settings.admin_email},)},
			reason="owns the apps, release group and bench; free_account so Press never bills",
		),
		_customer_role(settings.admin_email, capabilities),
		DesiredRecord(
			key="App",
			doctype="App",
			name="frappe",
			lookup={"name": "frappe"},
			fields={"title": "Frappe Framework"},
			reason="the framework every bench runs",
		),
		DesiredRecord(
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
		DesiredRecord(
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
		DesiredRecord(
			key="Tenant App",
			doctype="App",
			name=TENANT_APP,
			lookup={"name": TENANT_APP},
			fields={"title": TENANT_APP_TITLE},
			reason="single sign-on on customer sites (tenant/ of press_selfhost), carried by the bench image",
		),
		DesiredRecord(
			key="Tenant App Source",
			doctype="App Source",
			lookup={"app": TENANT_APP, "repository_url": TENANT_APP_REPOSITORY_URL},
			fields={
				"app": TENANT_APP,
				"app_title": TENANT_APP_TITLE,
				"repository_url": TENANT_APP_REPOSITORY_URL,
				"branch": "main",
				"team": team,
				"public": 1,
				"enabled": 1,
				"last_github_poll_failed": 1,
			},
			children={"versions": ({"version": settings.frappe_version},)},
			create_only=frozenset({"team"}),
			reason="a label: the code is in the bench image; last_github_poll_failed=1 so nothing fetches it",
		),
		DesiredRecord(
			key="Tenant App Release",
			doctype="App Release",
			lookup={"source": tenant_source, "hash": tenant_hash},
			fields={
				"app": TENANT_APP,
				"source": tenant_source,
				"hash": tenant_hash,
				"team": team,
				"status": "Approved",
				"cloned": 1,
			},
			create_only=frozenset({"status", "cloned", "team"}),
			reason="the tenant app in the bench image, as a release Press can deploy",
		),
		DesiredRecord(
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
					{
						"app": TENANT_APP,
						"source": tenant_source,
						"title": TENANT_APP_TITLE,
						"enable_auto_deploy": 0,
					},
				),
				"servers": ({"server": app_server, "default": 1},),
			},
			reason="where new sites go; auto-deploy off so no build is ever started",
		),
		DesiredRecord(
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
					{
						"app": TENANT_APP,
						"source": tenant_source,
						"release": Ref("Tenant App Release"),
						"hash": tenant_hash,
						"title": TENANT_APP_TITLE,
						"app_name": TENANT_APP,
					},
				),
			},
			create_only=frozenset({"status"}),
			reason="the image compose builds, recorded as a successful build (none runs)",
		),
		DesiredRecord(
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
			waiting_for="; ".join(
				f"{key}: {unreached[key]}" for key in ("Server", BENCH_IMAGE_KEY) if key in unreached
			),
		),
	]


def _site_plan(plan: SitePlanSpec, capabilities: PressCapabilities) -> list[DesiredRecord]:
	"""A Site Plan the dashboard offers customers (its roles), and its Lago plan code.

	Its price and interval are Lago's, copied by billing.site_plans.sync_site_plans: bootstrap writes
	them only on creation (price 0 until the first sync), so it never undoes the sync.
	"""
	roles = tuple({"role": role} for role in CUSTOMER_ROLES if role in capabilities.roles)
	return [
		DesiredRecord(
			key=f"Site Plan {plan.name}",
			doctype="Site Plan",
			name=plan.name,
			lookup={"name": plan.name},
			fields={
				"plan_title": plan.title,
				"document_type": "Site",
				"interval": "Monthly",
				"price_inr": 0,
				"price_usd": 0,
				"enabled": 1,
			},
			children={"roles": roles},
			create_only=frozenset({"interval", "price_inr", "price_usd"}),
			reason="a plan customers are offered (its roles); its price and interval are Lago's (synced)",
		),
		DesiredRecord(
			key=f"Lago Plan Map {plan.name}",
			doctype="Lago Plan Map",
			name=plan.name,
			lookup={"site_plan": plan.name},
			fields={"site_plan": plan.name, "lago_plan_code": plan.name},
			create_only=frozenset({"lago_plan_code"}),
			reason="Lago bills this Site Plan with the Lago plan of the same code",
		),
	]


def _customer_role(user: str, capabilities: PressCapabilities) -> DesiredRecord:
	"""The team owner's Press role, as a Has Role row of the User (appended, so User's hooks run)."""
	role = next((role for role in CUSTOMER_ROLES if role in capabilities.roles), CUSTOMER_ROLES[-1])
	row = {"parenttype": "User", "parent": user, "parentfield": "roles", "role": role}
	return DesiredRecord(
		key="Team Owner Role",
		doctype="Has Role",
		lookup={"parenttype": "User", "parent": user, "role": role},
		fields=row,
		insert_method=InsertMethod.APPEND_TO_PARENT,
		reason="the role Press gives a customer at signup: the owner can manage its sites from the dashboard",
	)


def _services(settings: BootstrapSettings, capabilities: PressCapabilities) -> list[DesiredRecord]:
	records = []
	if settings.smtp_host and settings.mail_from_address:
		records.append(
			DesiredRecord(
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
	return records
