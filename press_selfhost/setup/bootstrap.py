"""Applies the bootstrap plan through Frappe: reads what exists, plans, writes, and says what it did.

The rules (which records, which fields, in which order, why) are in `bootstrap_plan.py`; this
module only reads DocType meta and records, and carries the actions out the way Press expects:
normal inserts so Press's own hooks fill in what they generate, `db_insert` where a hook would call
certbot. Nothing here runs Ansible or SSH: a server is written Active once its agent answers.
"""

from collections.abc import Mapping

import frappe
from frappe.model import child_table_fields
from frappe.utils.password import (
	get_decrypted_password,
	remove_encrypted_password,
	set_encrypted_password,
)

from press_selfhost.billing.site_plans import sync_site_plans
from press_selfhost.errors import ConfigurationError, ServiceUnavailableError
from press_selfhost.setup.bootstrap_plan import (
	Action,
	Operation,
	fingerprint,
	named,
	plan_bootstrap,
	planned_secret_fields,
	summary_table,
)
from press_selfhost.setup.bootstrap_records import (
	BootstrapSettings,
	InsertMethod,
	PressCapabilities,
	missing_settings,
	settings_from_values,
)
from press_selfhost.setup.reachability import unreached

PLANNED_DOCTYPES = (
	"TLS Certificate",
	"Cluster",
	"Root Domain",
	"Proxy Server",
	"Database Server",
	"Server",
	"User",
	"Team",
	"Has Role",
	"App",
	"App Source",
	"App Release",
	"Release Group",
	"Deploy Candidate",
	"Bench",
	"Press Settings",
	"Site Plan",
	"Lago Plan Map",
	"Email Account",
)
# Password fields of Selfhost Settings that bootstrap reads (get_password decrypts them).
SECRET_SETTINGS = (
	"agent_password",
	"proxy_agent_password",
	"mariadb_root_password",
	"postal_smtp_password",
	"docker_registry_password",
)
# An archived bench is gone for Press; a new one is needed, so bootstrap never looks at it.
# Of the roles, only users' matter (Has Role rows also hang off other DocTypes).
SNAPSHOT_FILTERS = {"Bench": {"status": ("!=", "Archived")}, "Has Role": {"parenttype": "User"}}


class BootstrapStopped(Exception):
	"""An action failed; the records before it are saved. The message names the record, not its values."""


def read_settings_values() -> dict:
	"""Selfhost Settings as a dict, with the Password fields bootstrap and the doctor use decrypted."""
	settings = frappe.get_single("Selfhost Settings")
	values = settings.as_dict()
	for fieldname in SECRET_SETTINGS:
		values[fieldname] = settings.get_password(fieldname, raise_exception=False) or ""
	return values


def read_settings() -> BootstrapSettings:
	return settings_from_values(read_settings_values())


def read_capabilities() -> PressCapabilities:
	"""Fields and Select options of the installed Press and Frappe, from their DocType meta, and roles.

	A child DocType's rows are found by their parent, so its parent fields count as its own.
	"""
	fields = {}
	select_options = {}
	for doctype in PLANNED_DOCTYPES:
		meta = frappe.get_meta(doctype)
		fields[doctype] = frozenset(df.fieldname for df in meta.fields)
		if meta.istable:
			fields[doctype] |= frozenset(child_table_fields)
		for df in meta.fields:
			if df.fieldtype in ("Table", "Table MultiSelect"):
				fields[f"{doctype}.{df.fieldname}"] = frozenset(
					child.fieldname for child in frappe.get_meta(df.options).fields
				)
			elif df.fieldtype == "Select":
				select_options[f"{doctype}.{df.fieldname}"] = tuple(
					option for option in (df.options or "").split("\n") if option
				)
	roles = frozenset(frappe.get_all("Role", pluck="name"))
	return PressCapabilities(fields=fields, select_options=select_options, roles=roles)


def read_snapshot(settings: BootstrapSettings, capabilities: PressCapabilities) -> dict:
	"""Every record of the planned DocTypes (one query each), secret fields as fingerprints.

	A Single DocType (Press Settings) is one record named after the DocType. A secret may be a
	Password field (decrypted to be fingerprinted) or a Data field Press reads as is.
	"""
	secret_fields = planned_secret_fields(settings, capabilities)
	snapshot = {}
	for doctype in PLANNED_DOCTYPES:
		if frappe.get_meta(doctype).issingle:
			records = {doctype: frappe.get_single(doctype).as_dict(no_default_fields=True)}
		else:
			rows = frappe.get_all(doctype, fields=["*"], filters=SNAPSHOT_FILTERS.get(doctype))
			records = {row.pop("name"): row for row in rows}
		for fieldname in secret_fields.get(doctype, ()):
			encrypted = _is_password(doctype, fieldname)
			for name, record in records.items():
				if encrypted:
					secret = get_decrypted_password(doctype, name, fieldname, raise_exception=False)
				else:
					secret = record.get(fieldname)
				record[fieldname] = fingerprint(secret) if secret else ""
		snapshot[doctype] = records
	return snapshot


def plan(
	settings: BootstrapSettings | None = None, unreached_now: Mapping[str, str] | None = None
) -> list[Action]:
	"""The plan for `settings` (by default Selfhost Settings) against this site's records.

	Servers whose agents do not answer where Press calls them are planned Pending, and the Bench
	waits for its server and its image: `unreached_now` says which (by default, checked now; see
	reachability.py).
	"""
	settings = settings or read_settings()
	capabilities = read_capabilities()
	snapshot = read_snapshot(settings, capabilities)
	if unreached_now is None:
		unreached_now = unreached(settings)
	return plan_bootstrap(settings, snapshot, capabilities, unreached=unreached_now)


def apply(actions: list[Action]) -> dict[str, str]:
	"""Carry the actions out in order, committing each so a failure keeps what was already done.

	Returns the name of each action's record, by action key.
	"""
	names: dict[str, str] = {}
	for action in actions:
		try:
			if action.operation is Operation.CREATE:
				names[action.key] = _create(action, names)
			elif action.operation is Operation.UPDATE:
				_update(action, names)
				names[action.key] = action.name
			elif action.operation is Operation.UNCHANGED:
				names[action.key] = action.name
		except Exception as error:
			frappe.db.rollback()
			# `from None`: a traceback would show the action's fields, secrets included
			raise BootstrapStopped(
				f"Bootstrap stopped at {action.operation.value} {action.doctype} "
				f"{action.name or action.key}: {type(error).__name__}: {error}. The records before it "
				"are saved; fix the cause and run bootstrap again."
			) from None
		# A bench command commits itself; the Bench's 'New Bench' Agent Job is sent after commit.
		frappe.db.commit()
	return names


def bootstrap(dry_run: bool = False, settings: BootstrapSettings | None = None) -> list[Action]:
	"""Plan, and unless `dry_run`, apply. Returns the plan."""
	actions = plan(settings)
	if not dry_run:
		apply(actions)
		_price_site_plans()
	return actions


def _price_site_plans() -> None:
	"""The new Site Plans cost 0 until Lago's prices are copied; Lago down only delays that to the hourly sync."""
	try:
		sync_site_plans()
	except (ConfigurationError, ServiceUnavailableError) as error:
		print(f"press_selfhost: Site Plan prices not read from Lago yet ({error}); the hourly sync retries.")


def after_install() -> None:
	"""Bootstrap right after install when Selfhost Settings are complete; otherwise say what is missing."""
	missing = missing_settings(read_settings())
	if missing:
		print(
			"press_selfhost: bootstrap skipped until these Selfhost Settings are set: "
			f"{', '.join(missing)}; then run `bench --site {frappe.local.site} press-selfhost bootstrap`."
		)
		return
	try:
		print(summary_table(bootstrap()))
	except BootstrapStopped as stopped:
		# The app is installed either way; the admin reruns bootstrap once the cause is fixed.
		print(f"press_selfhost: {stopped}")


def _create(action: Action, names: dict[str, str]) -> str:
	fields, children = named(action, names)
	doc = frappe.new_doc(action.doctype)
	doc.update(fields)
	for table, rows in children.items():
		for row in rows:
			doc.append(table, row)
	if action.name:
		doc.name = action.name
	if action.doctype == "Deploy Candidate" and not doc.get("dependencies"):
		# ReleaseGroup.create_deploy_candidate copies these; we insert the candidate without building.
		for dependency in frappe.get_doc("Release Group", doc.group).dependencies:
			doc.append("dependencies", {"dependency": dependency.dependency, "version": dependency.version})
	if action.insert_method is InsertMethod.APPEND_TO_PARENT:
		return _append_to_parent(fields)
	if action.insert_method is InsertMethod.DB_INSERT:
		doc.db_insert()
	else:
		doc.insert(ignore_permissions=True)
	_write_hook_free(action, doc.name, fields)
	return doc.name


def _update(action: Action, names: dict[str, str]) -> None:
	fields, _children = named(action, names)
	if action.insert_method is InsertMethod.DB_INSERT:
		for fieldname in action.secret_fields & fields.keys():
			if not _is_password(action.doctype, fieldname):
				continue  # a secret in a Data field (Press reads it as is)
			# as Document._save_passwords does: the secret in __Auth, a mask in the column; "" clears it
			if fields[fieldname]:
				set_encrypted_password(action.doctype, action.name, fields[fieldname], fieldname)
			else:
				remove_encrypted_password(action.doctype, action.name, fieldname)
			fields[fieldname] = "*" * len(fields[fieldname])
		frappe.db.set_value(action.doctype, action.name, fields, update_modified=True)
		return
	doc = frappe.get_doc(action.doctype, action.name)
	doc.update(fields)
	doc.save(ignore_permissions=True)
	_write_hook_free(action, action.name, fields)


def _write_hook_free(action: Action, name: str, fields: dict) -> None:
	"""Write the fields a Press hook overwrites on insert or save (e.g. ProxyServer.validate)."""
	values = {fieldname: fields[fieldname] for fieldname in action.hook_free_fields if fieldname in fields}
	if values:
		frappe.db.set_value(action.doctype, name, values, update_modified=False)


def _append_to_parent(fields: dict) -> str:
	"""Append a child row to its parent and save the parent, so the parent's hooks see the row
	(User.validate sets the user type from the roles and clears the cached ones)."""
	parent = frappe.get_doc(fields["parenttype"], fields["parent"])
	row = parent.append(
		fields["parentfield"], {k: v for k, v in fields.items() if k not in child_table_fields}
	)
	parent.save(ignore_permissions=True)
	return row.name


def _is_password(doctype: str, fieldname: str) -> bool:
	field = frappe.get_meta(doctype).get_field(fieldname)
	return bool(field) and field.fieldtype == "Password"
