"""Static checks of the Frappe layer, run in CI where Frappe cannot be installed.

They read source and JSON only (nothing imports frappe) and return a list of problems, each naming
the file and what Frappe would trip over at install or request time.
"""

import ast
import json
import keyword
import re
from pathlib import Path

# frappe/core/doctype/docfield/docfield.json, "fieldtype" options (Frappe 15 and 16).
FIELDTYPES = frozenset(
	[
		"Autocomplete",
		"Attach",
		"Attach Image",
		"Barcode",
		"Button",
		"Check",
		"Code",
		"Color",
		"Column Break",
		"Currency",
		"Data",
		"Date",
		"Datetime",
		"Duration",
		"Dynamic Link",
		"Float",
		"Fold",
		"Geolocation",
		"Heading",
		"HTML",
		"HTML Editor",
		"Icon",
		"Image",
		"Int",
		"JSON",
		"Link",
		"Long Text",
		"Markdown Editor",
		"Password",
		"Percent",
		"Phone",
		"Read Only",
		"Rating",
		"Section Break",
		"Select",
		"Signature",
		"Small Text",
		"Tab Break",
		"Table",
		"Table MultiSelect",
		"Text",
		"Text Editor",
		"Time",
	]
)
LAYOUT_FIELDTYPES = frozenset(
	{"Section Break", "Column Break", "Tab Break", "HTML", "Button", "Image", "Fold", "Heading"}
)
NEEDS_OPTIONS = frozenset({"Link", "Table", "Table MultiSelect", "Dynamic Link", "Select"})
FIELDNAME = re.compile(r"^[a-z][a-z0-9_]*$")

# Hooks whose values are dotted paths to functions or classes (dict keys are doctypes, events or routes).
DOTTED_PATH_HOOKS = frozenset(
	{
		"after_install",
		"before_install",
		"after_uninstall",
		"before_uninstall",
		"after_migrate",
		"before_migrate",
		"after_sync",
		"before_tests",
		"boot_session",
		"on_login",
		"on_logout",
		"on_session_creation",
		"before_request",
		"after_request",
		"before_job",
		"after_job",
		"auth_hooks",
		"doc_events",
		"scheduler_events",
		"override_whitelisted_methods",
		"override_doctype_class",
		"has_permission",
		"permission_query_conditions",
		"extend_bootinfo",
		"jinja",
		"website_context",
		"update_website_context",
		"get_website_user_home_page",
		"website_path_resolver",
		"extend_doctype_class",
		"page_renderer",
	}
)
NOT_DOTTED_PATHS = frozenset(
	{"*", "all", "daily", "hourly", "weekly", "monthly", "cron", "daily_long", "hourly_long"}
)


def scrub(name: str) -> str:
	"""Frappe's frappe.scrub: the folder and file name of a DocType or module."""
	return name.replace(" ", "_").replace("-", "_").lower()


def check_app(app_dir: Path) -> list[str]:
	return (
		check_doctypes(app_dir)
		+ check_workspaces(app_dir)
		+ check_hooks(app_dir)
		+ check_whitelisted(app_dir)
	)


# -- DocTypes ---------------------------------------------------------------------------------------
def check_doctypes(app_dir: Path) -> list[str]:
	problems = []
	modules_file = app_dir / "modules.txt"
	if not modules_file.exists():
		return [f"{modules_file}: missing; Frappe reads the app's modules from it"]
	modules = [line.strip() for line in modules_file.read_text().splitlines() if line.strip()]
	for module in modules:
		module_dir = app_dir / scrub(module)
		if not (module_dir / "__init__.py").exists():
			problems.append(f"{module_dir}: module '{module}' of modules.txt has no package (__init__.py)")
	for json_path in sorted(app_dir.glob("*/doctype/*/*.json")):
		if json_path.stem == json_path.parent.name:
			problems += check_doctype(json_path, modules)
	return problems


def check_doctype(json_path: Path, modules: list[str]) -> list[str]:
	where = str(json_path)
	try:
		doctype = json.loads(json_path.read_text())
	except (json.JSONDecodeError, UnicodeDecodeError) as error:
		return [f"{where}: not valid JSON ({error})"]
	if not isinstance(doctype, dict):
		return [f"{where}: must be a JSON object"]
	problems = []
	name = doctype.get("name")
	if doctype.get("doctype") != "DocType":
		problems.append(f"{where}: 'doctype' must be \"DocType\"")
	if not isinstance(name, str) or not name:
		return [*problems, f"{where}: no 'name'"]
	if scrub(name) != json_path.parent.name or scrub(name) != json_path.stem:
		problems.append(f"{where}: DocType '{name}' must live in {scrub(name)}/{scrub(name)}.json")
	module = doctype.get("module")
	if module not in modules:
		problems.append(f"{where}: module '{module}' is not listed in modules.txt")
	elif scrub(module) != json_path.parent.parent.parent.name:
		problems.append(f"{where}: DocType of module '{module}' must be under {scrub(module)}/doctype/")
	problems += _check_fields(where, doctype)
	if not doctype.get("istable") and not doctype.get("permissions"):
		problems.append(f"{where}: no permissions; nobody but Administrator could open '{name}'")
	for permission in doctype.get("permissions") or []:
		if not permission.get("role"):
			problems.append(f"{where}: a permission rule has no role")
	problems += _check_controller(json_path, name)
	return problems


def _check_fields(where: str, doctype: dict) -> list[str]:
	problems = []
	fields = doctype.get("fields")
	if not isinstance(fields, list):
		return [f"{where}: 'fields' must be a list"]
	seen = set()
	for field in fields:
		fieldname, fieldtype = field.get("fieldname"), field.get("fieldtype")
		if not isinstance(fieldname, str) or not FIELDNAME.match(fieldname) or keyword.iskeyword(fieldname):
			problems.append(f"{where}: field name {fieldname!r} is not a lower-case identifier")
		if fieldname in seen:
			problems.append(f"{where}: field '{fieldname}' is defined twice")
		seen.add(fieldname)
		if fieldtype not in FIELDTYPES:
			problems.append(f"{where}: field '{fieldname}' has unknown fieldtype {fieldtype!r}")
		elif fieldtype in NEEDS_OPTIONS and not field.get("options"):
			problems.append(f"{where}: {fieldtype} field '{fieldname}' needs options")
		if field.get("unique") and fieldtype in LAYOUT_FIELDTYPES:
			problems.append(f"{where}: layout field '{fieldname}' cannot be unique")
	order = doctype.get("field_order")
	if order is not None and sorted(order) != sorted(seen):
		problems.append(f"{where}: field_order does not list exactly the fields")
	return problems


def _check_controller(json_path: Path, name: str) -> list[str]:
	folder = json_path.parent
	controller = folder / f"{folder.name}.py"
	problems = []
	if not (folder / "__init__.py").exists():
		problems.append(f"{folder}: no __init__.py; Frappe cannot import the controller")
	if not controller.exists():
		return [*problems, f"{controller}: missing controller"]
	class_name = name.replace(" ", "").replace("-", "")
	tree = ast.parse(controller.read_text(), str(controller))
	if not any(isinstance(node, ast.ClassDef) and node.name == class_name for node in tree.body):
		problems.append(f"{controller}: no class {class_name}; Frappe looks the controller up by that name")
	return problems


# -- Workspaces -------------------------------------------------------------------------------------
# Each content block names a child row by its label (frappe/public/js/frappe/views/workspace/blocks/).
WORKSPACE_BLOCKS = {
	"shortcut": ("shortcut_name", "shortcuts"),
	"quick_list": ("quick_list_name", "quick_lists"),
	"card": ("card_name", "links"),
	"chart": ("chart_name", "charts"),
	"number_card": ("number_card_name", "number_cards"),
}


def check_workspaces(app_dir: Path) -> list[str]:
	modules_file = app_dir / "modules.txt"
	if not modules_file.exists():
		return []  # check_doctypes reports it
	modules = [line.strip() for line in modules_file.read_text().splitlines() if line.strip()]
	problems = []
	for json_path in sorted(app_dir.glob("*/workspace/*/*.json")):
		if json_path.stem == json_path.parent.name:
			problems += check_workspace(json_path, modules)
	return problems


def check_workspace(json_path: Path, modules: list[str]) -> list[str]:
	"""What `bench migrate` and the desk trip over: identity, module, content blocks naming no row."""
	where = str(json_path)
	try:
		workspace = json.loads(json_path.read_text())
	except (json.JSONDecodeError, UnicodeDecodeError) as error:
		return [f"{where}: not valid JSON ({error})"]
	if not isinstance(workspace, dict):
		return [f"{where}: must be a JSON object"]
	problems = []
	if workspace.get("doctype") != "Workspace":
		problems.append(f"{where}: 'doctype' must be \"Workspace\"")
	name, label = workspace.get("name"), workspace.get("label")
	if not isinstance(name, str) or not name or name != label:
		problems.append(f"{where}: 'name' must equal 'label' (Workspace is named by its label)")
	elif scrub(name) != json_path.parent.name or scrub(name) != json_path.stem:
		problems.append(f"{where}: Workspace '{name}' must live in {scrub(name)}/{scrub(name)}.json")
	if not workspace.get("title"):
		problems.append(f"{where}: no 'title' (required)")
	module = workspace.get("module")
	if module not in modules:
		problems.append(f"{where}: module '{module}' is not listed in modules.txt")
	elif scrub(module) != json_path.parent.parent.parent.name:
		problems.append(f"{where}: Workspace of module '{module}' must be under {scrub(module)}/workspace/")
	try:
		content = json.loads(workspace.get("content") or "")
	except (TypeError, json.JSONDecodeError):
		content = None
	if not isinstance(content, list):
		return [*problems, f"{where}: 'content' must be a JSON list of blocks, as a string"]
	for shortcut in workspace.get("shortcuts") or []:
		if not shortcut.get("type") or not shortcut.get("label"):
			problems.append(f"{where}: shortcut {shortcut.get('label')!r} needs a type and a label")
		problems += _check_filter(where, f"shortcut '{shortcut.get('label')}'", shortcut.get("stats_filter"))
	for quick_list in workspace.get("quick_lists") or []:
		if not quick_list.get("document_type"):
			problems.append(f"{where}: quick list {quick_list.get('label')!r} has no document_type")
		problems += _check_filter(
			where, f"quick list '{quick_list.get('label')}'", quick_list.get("quick_list_filter")
		)
	for block in content:
		kind = block.get("type") if isinstance(block, dict) else None
		if kind not in WORKSPACE_BLOCKS:
			continue
		key, table = WORKSPACE_BLOCKS[kind]
		rows = workspace.get(table) or []
		if table == "links":
			rows = [row for row in rows if row.get("type") == "Card Break"]
		wanted = (block.get("data") or {}).get(key)
		if wanted not in {row.get("label") for row in rows}:
			problems.append(f"{where}: {kind} block names {wanted!r}, which is not a row of '{table}'")
	return problems


def _check_filter(where: str, what: str, value) -> list[str]:
	if not value:
		return []
	try:
		filters = json.loads(value)
	except (TypeError, json.JSONDecodeError):
		return [f"{where}: {what} has a filter that is not JSON"]
	return [] if isinstance(filters, list) else [f"{where}: {what} has a filter that is not a list"]


# -- hooks.py ---------------------------------------------------------------------------------------
def check_hooks(app_dir: Path) -> list[str]:
	hooks_file = app_dir / "hooks.py"
	if not hooks_file.exists():
		return [f"{hooks_file}: missing; Frappe loads <app>.hooks"]
	tree = ast.parse(hooks_file.read_text(), str(hooks_file))
	problems = []
	assigned = {}
	for node in tree.body:
		if isinstance(node, ast.Assign):
			for target in node.targets:
				if isinstance(target, ast.Name):
					if target.id in assigned:
						problems.append(
							f"{hooks_file}: {target.id} is assigned twice (line {node.lineno}); "
							"the second replaces the first, merge them into one"
						)
					assigned[target.id] = node.value
	for required in ("app_name", "app_title", "app_publisher", "app_description"):
		if required not in assigned:
			problems.append(f"{hooks_file}: no {required}")
	app_name = app_dir.name
	for hook, value in assigned.items():
		for path in _dotted_paths(hook, value, app_name):
			problem = _resolve(app_dir, path)
			if (
				not problem
				and hook == "override_whitelisted_methods"
				and not _is_whitelisted(_find_function(app_dir, path))
			):
				problem = "is not decorated with @frappe.whitelist(), so it cannot replace an endpoint"
			if problem:
				problems.append(f"{hooks_file}: {hook} → {path}: {problem}")
	return problems


def _dotted_paths(hook: str, value: ast.AST, app_name: str) -> list[str]:
	"""The dotted paths a hook names: every string leaf of a path-valued hook, and any string
	elsewhere that starts with the app's name and a dot."""
	strings = []
	_collect_strings(value, strings, include_dict_keys=False)
	paths = []
	for string in strings:
		looks_ours = string.startswith(f"{app_name}.")
		if looks_ours or (hook in DOTTED_PATH_HOOKS and string not in NOT_DOTTED_PATHS and "." in string):
			paths.append(string)
	return paths


def _collect_strings(node: ast.AST, out: list[str], include_dict_keys: bool) -> None:
	if isinstance(node, ast.Constant) and isinstance(node.value, str):
		out.append(node.value)
	elif isinstance(node, ast.Dict):
		for key, item in zip(node.keys, node.values, strict=True):
			if include_dict_keys and key is not None:
				_collect_strings(key, out, include_dict_keys)
			_collect_strings(item, out, include_dict_keys)
	elif isinstance(node, ast.List | ast.Tuple | ast.Set):
		for item in node.elts:
			_collect_strings(item, out, include_dict_keys)


def _resolve(app_dir: Path, dotted_path: str) -> str | None:
	"""Why `dotted_path` does not name a top-level function or class of this app, or None."""
	app_name = app_dir.name
	if not dotted_path.startswith(f"{app_name}."):
		return f"names something outside {app_name}; hooks must point at our own code"
	module_path, _, attribute = dotted_path.rpartition(".")
	source = _module_source(app_dir, module_path)
	if source is None:
		return f"module {module_path} does not exist"
	tree = ast.parse(source.read_text(), str(source))
	if attribute not in _top_level_names(tree):
		return f"{source.relative_to(app_dir.parent)} defines no {attribute}"
	return None


def _find_function(app_dir: Path, dotted_path: str) -> ast.FunctionDef | None:
	module_path, _, attribute = dotted_path.rpartition(".")
	tree = ast.parse(_module_source(app_dir, module_path).read_text())
	return next(
		(node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == attribute), None
	)


def _module_source(app_dir: Path, module_path: str) -> Path | None:
	relative = Path(*module_path.split(".")[1:])
	for candidate in (app_dir / relative.with_suffix(".py"), app_dir / relative / "__init__.py"):
		if candidate.exists():
			return candidate
	return None


def _top_level_names(tree: ast.Module) -> set[str]:
	names = set()
	for node in tree.body:
		if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
			names.add(node.name)
		elif isinstance(node, ast.Assign):
			names.update(target.id for target in node.targets if isinstance(target, ast.Name))
		elif isinstance(node, ast.ImportFrom):
			names.update(alias.asname or alias.name for alias in node.names)
	return names


# -- whitelisted endpoints --------------------------------------------------------------------------
def check_whitelisted(app_dir: Path) -> list[str]:
	"""Every public function in api/ is an endpoint, so it must be @frappe.whitelist()ed."""
	problems = []
	for source in sorted((app_dir / "api").rglob("*.py")):
		tree = ast.parse(source.read_text(), str(source))
		for node in tree.body:
			if (
				isinstance(node, ast.FunctionDef)
				and not node.name.startswith("_")
				and not _is_whitelisted(node)
			):
				problems.append(
					f"{source}: {node.name} is public in api/ but not decorated with @frappe.whitelist()"
				)
	return problems


def _is_whitelisted(function: ast.FunctionDef | None) -> bool:
	for decorator in function.decorator_list if function else ():
		target = decorator.func if isinstance(decorator, ast.Call) else decorator
		if ast.unparse(target) in ("frappe.whitelist", "whitelist"):
			return True
	return False
