"""What Press needs to run without Ansible, Route 53, GitHub or a build server, as a plan of plain data.

`plan_bootstrap(settings, snapshot, capabilities)` compares the records self-hosting needs (the
catalogue in `bootstrap_records.py`) with the records that exist and returns, in dependency order, one action per record: create, update (only the
fields that differ) or unchanged. It never imports frappe: the shell (`bootstrap.py`) reads the
snapshot, applies the actions and supplies what the installed Press offers, so one plan serves the
Press of Feb 2025 and newer ones (e.g. the "Generic" DNS provider appeared later).

Snapshot convention: `{doctype: {name: {fieldname: value}}}`, scalar fields only; a secret (Password
field) is represented by `fingerprint(secret)`, so secrets are compared without being read into it.
Child tables are written when a record is created and not compared afterwards.
"""

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import Enum
from types import MappingProxyType

from press_selfhost.errors import ConfigurationError
from press_selfhost.setup.bootstrap_records import (
	BootstrapSettings,
	DesiredRecord,
	InsertMethod,
	PressCapabilities,
	Ref,
	desired_records,
	missing_settings,
)

Snapshot = Mapping[str, Mapping[str, Mapping[str, object]]]


class Operation(Enum):
	CREATE = "create"
	UPDATE = "update"
	UNCHANGED = "unchanged"
	WAIT = "wait"  # not created yet: what it needs was not reached (the reason says what)


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


def fingerprint(secret: str) -> str:
	"""How a secret appears in a snapshot: comparable, not reversible, never the secret itself.

	No secret is "" on both sides, so an unset Password field matches an empty setting.
	"""
	return "sha256:" + hashlib.sha256(secret.encode()).hexdigest() if secret else ""


def plan_bootstrap(
	settings: BootstrapSettings,
	snapshot: Snapshot,
	capabilities: PressCapabilities,
	unreached: Mapping[str, str] = MappingProxyType({}),
) -> list[Action]:
	"""The ordered actions that bring `snapshot` to what self-hosting needs; unchanged ones included.

	`unreached`: what the shell could not reach just now, by record key, and why (see desired_records).
	"""
	_check_settings(settings)
	resolved: dict[str, object] = {}
	actions = []
	for record in desired_records(settings, capabilities, unreached):
		record = _resolve_refs(record, resolved)
		record = _keep_known_fields(record, capabilities)
		existing_name = _find(snapshot.get(record.doctype, {}), record)
		if existing_name is None and record.waiting_for:
			action = Action(
				key=record.key,
				doctype=record.doctype,
				name=None,
				lookup=record.lookup,
				operation=Operation.WAIT,
				fields={},
				reason=f"waiting for {record.waiting_for}",
			)
		elif existing_name is None:
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
	for record in desired_records(settings, capabilities):
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
		if action.operation is Operation.WAIT:
			shown = {"waiting for": action.reason.removeprefix("waiting for ")}
		operation = action.operation.value
		if action.operation is not Operation.UNCHANGED and action.insert_method is InsertMethod.DB_INSERT:
			operation += " (no hooks)"
		rows.append((operation, action.doctype, name, ", ".join(f"{k}={v}" for k, v in shown.items())))
	return rows


def _check_settings(settings: BootstrapSettings) -> None:
	missing = missing_settings(settings)
	if missing:
		raise ConfigurationError(
			f"Bootstrap needs these Selfhost Settings: {', '.join(missing)}. Set them, then run "
			"`bench --site <site> press-selfhost bootstrap` again."
		)


def summary_table(actions: list[Action]) -> str:
	"""The plan as an aligned text table (operation, doctype, name, fields); no secrets."""
	header = ("ACTION", "DOCTYPE", "NAME", "FIELDS")
	rows = [header, *summary_rows(actions)]
	widths = [max(len(row[column]) for row in rows) for column in range(3)]
	return "\n".join(
		"  ".join(cell.ljust(width) for cell, width in zip(row[:3], widths, strict=True)) + "  " + row[3]
		for row in rows
	).rstrip()


def _resolve_refs(record: DesiredRecord, resolved: Mapping[str, object]) -> DesiredRecord:
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


def _keep_known_fields(record: DesiredRecord, capabilities: PressCapabilities) -> DesiredRecord:
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


def _find(records: Mapping[str, Mapping[str, object]], record: DesiredRecord) -> str | None:
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
