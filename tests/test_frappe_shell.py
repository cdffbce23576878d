"""The static checks pass on our app, and each one catches the mistake it exists for."""

import json
import shutil
from pathlib import Path

import pytest

from tests.support.frappe_shell import check_app

APP_DIR = Path(__file__).resolve().parent.parent / "press_selfhost"
SETTINGS_JSON = Path("press_selfhost/doctype/selfhost_settings/selfhost_settings.json")
WORKSPACE_JSON = Path("press_selfhost/workspace/selfhost/selfhost.json")


def test_our_frappe_shell_passes_every_check():
	assert check_app(APP_DIR) == []


@pytest.fixture
def app_copy(tmp_path) -> Path:
	copy = tmp_path / "press_selfhost"
	shutil.copytree(APP_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
	return copy


def edit_json(path: Path, change) -> None:
	document = json.loads(path.read_text())
	change(document)
	path.write_text(json.dumps(document))


def add_hook(app: Path, line: str) -> None:
	hooks = app / "hooks.py"
	hooks.write_text(hooks.read_text() + "\n" + line + "\n")


def break_json(app):
	(app / SETTINGS_JSON).write_text("{ not json")


def unknown_fieldtype(app):
	edit_json(app / SETTINGS_JSON, lambda d: d["fields"][1].update(fieldtype="Textt"))


def no_permissions(app):
	edit_json(app / SETTINGS_JSON, lambda d: d.update(permissions=[]))


def name_does_not_match_folder(app):
	edit_json(app / SETTINGS_JSON, lambda d: d.update(name="Selfhost Setting"))


def module_not_listed(app):
	edit_json(app / SETTINGS_JSON, lambda d: d.update(module="Elsewhere"))


def duplicate_field(app):
	edit_json(app / SETTINGS_JSON, lambda d: d["fields"].append(dict(d["fields"][1])))


def field_order_out_of_date(app):
	edit_json(app / SETTINGS_JSON, lambda d: d["field_order"].append("ghost"))


def select_without_options(app):
	edit_json(app / SETTINGS_JSON, lambda d: d["fields"].append({"fieldname": "mode", "fieldtype": "Select"}))


def controller_class_renamed(app):
	controller = app / SETTINGS_JSON.with_suffix(".py")
	controller.write_text(controller.read_text().replace("class SelfhostSettings", "class Settings"))


def hook_names_missing_function(app):
	add_hook(app, 'doc_events = {"Site": {"after_insert": "press_selfhost.setup.settings.no_such_function"}}')


def hook_names_missing_module(app):
	add_hook(app, 'scheduler_events = {"daily": ["press_selfhost.nowhere.report_usage"]}')


def hook_assigned_twice(app):
	add_hook(app, 'doc_events = {"Site": {"on_update": "press_selfhost.setup.settings.validate_settings"}}')


def hook_names_other_app(app):
	add_hook(app, 'on_login = "press.auth.hook"')


def endpoint_not_whitelisted(app):
	(app / "api" / "billing.py").write_text("def checkout(plan):\n\treturn plan\n")


def override_not_whitelisted(app):
	(app / "api" / "billing.py").write_text("import frappe\n\n\ndef _checkout(plan):\n\treturn plan\n")
	add_hook(
		app,
		'override_whitelisted_methods = {"press.api.billing.get": "press_selfhost.api.billing._checkout"}',
	)


def workspace_block_names_missing_shortcut(app):
	edit_json(app / WORKSPACE_JSON, lambda d: d.update(shortcuts=d["shortcuts"][1:]))


def workspace_content_not_a_list(app):
	edit_json(app / WORKSPACE_JSON, lambda d: d.update(content='{"type": "header"}'))


def workspace_renamed_without_label(app):
	edit_json(app / WORKSPACE_JSON, lambda d: d.update(name="Self Host"))


def workspace_filter_not_json(app):
	edit_json(app / WORKSPACE_JSON, lambda d: d["quick_lists"][0].update(quick_list_filter="[status=Failed"))


@pytest.mark.parametrize(
	("breakage", "expected"),
	[
		(break_json, "not valid JSON"),
		(unknown_fieldtype, "unknown fieldtype 'Textt'"),
		(no_permissions, "no permissions"),
		(name_does_not_match_folder, "must live in selfhost_setting/selfhost_setting.json"),
		(module_not_listed, "module 'Elsewhere' is not listed in modules.txt"),
		(duplicate_field, "is defined twice"),
		(field_order_out_of_date, "field_order does not list exactly the fields"),
		(select_without_options, "Select field 'mode' needs options"),
		(controller_class_renamed, "no class SelfhostSettings"),
		(hook_names_missing_function, "defines no no_such_function"),
		(hook_names_missing_module, "module press_selfhost.nowhere does not exist"),
		(hook_names_other_app, "names something outside press_selfhost"),
		(hook_assigned_twice, "doc_events is assigned twice"),
		(endpoint_not_whitelisted, "checkout is public in api/ but not decorated with @frappe.whitelist()"),
		(override_not_whitelisted, "is not decorated with @frappe.whitelist()"),
		(workspace_block_names_missing_shortcut, "shortcut block names 'Selfhost Settings'"),
		(workspace_content_not_a_list, "'content' must be a JSON list of blocks"),
		(workspace_renamed_without_label, "'name' must equal 'label'"),
		(workspace_filter_not_json, "has a filter that is not JSON"),
	],
)
def test_each_check_catches_its_breakage(app_copy, breakage, expected):
	breakage(app_copy)
	problems = check_app(app_copy)
	assert any(expected in problem for problem in problems), problems
