"""One package per feature, and in each, which modules run without Frappe.

Every module of the app is named here once: framework-free (it must import, and import nothing of
Frappe or Press, in a fresh interpreter where `import frappe` fails) or Frappe glue. A new module that
is named nowhere fails the test, so its place and its layer are decided when it is written.
"""

import subprocess
import sys
from pathlib import Path

import pytest

from press_selfhost.patches.move_to_feature_packages import MOVED_MODULES, moved_path

APP = Path(__file__).resolve().parent.parent / "press_selfhost"

FRAMEWORK_FREE = {
	"backups": ["s3", "buckets", "encryption", "schedule", "retention", "restore_links", "checks"],
	"billing": ["lago", "lifecycle", "invoices", "format", "checks", "plans"],
	"identity": ["keycloak", "keycloak_admin", "site_clients", "rules", "tenant_login", "checks"],
	"mail": ["postal", "templates", "context", "status", "checks"],
	"routing": [
		"traefik",
		"agent",
		"bench_gateway",
		"proxy_agent",
		"proxy_agent.app",
		"proxy_agent.store",
		"proxy_agent.password",
		"proxy_agent.__main__",
		"checks",
	],
	"setup": [
		"settings",
		"bootstrap_plan",
		"bootstrap_records",
		"health",
		"checks",
		"doctor",
		"reachability",
	],
	"sites": ["progress"],
	"webhooks": ["delivery"],
	"": ["errors", "hooks", "patches", "patches.move_to_feature_packages", "test_in_bench"],
}

FRAPPE_GLUE = {
	"backups": ["scheduler", "shipper", "download"],
	"billing": ["jobs", "team", "site_plans"],
	"identity": ["dashboard_login", "site_sso", "overrides"],
	"mail": ["send"],
	"setup": ["bootstrap", "service_checks", "branding"],
	"sites": ["new_site"],
	"webhooks": ["inbox"],
	"": ["commands"],
}

# Frappe's own places: the whitelisted face, the web pages and the DocTypes' module.
FRAPPE_PLACES = ("api", "www", "press_selfhost")


def _dotted(package: str, module: str) -> str:
	return ".".join(part for part in ("press_selfhost", package, module) if part)


def _modules_on_disk() -> set[str]:
	found = set()
	for path in APP.rglob("*.py"):
		relative = path.relative_to(APP).with_suffix("")
		if relative.parts[0] in FRAPPE_PLACES:
			continue
		parts = relative.parts[:-1] if relative.name == "__init__" else relative.parts
		if parts:
			found.add(".".join(("press_selfhost", *parts)))
	return found


def _named() -> set[str]:
	named = set()
	for table in (FRAMEWORK_FREE, FRAPPE_GLUE):
		for package, modules in table.items():
			if package:
				named.add(_dotted(package, ""))  # the package itself (its __init__)
			named.update(_dotted(package, module) for module in modules)
	return named


def test_every_module_is_named_once_as_framework_free_or_glue():
	free = {_dotted(p, m) for p, ms in FRAMEWORK_FREE.items() for m in ms}
	glue = {_dotted(p, m) for p, ms in FRAPPE_GLUE.items() for m in ms}
	assert not free & glue
	assert _modules_on_disk() == _named()


@pytest.mark.parametrize("package", sorted(p for p in FRAMEWORK_FREE if p))
def test_framework_free_modules_import_without_frappe(package):
	modules = [_dotted(package, m) for m in FRAMEWORK_FREE[package]]
	# `sys.modules[name] = None` makes any later `import name` raise ImportError.
	script = (
		"import importlib, sys\n"
		"for blocked in ('frappe', 'press'):\n"
		"    sys.modules[blocked] = None\n"
		f"for module in {modules!r}:\n"
		"    importlib.import_module(module)\n"
	)
	done = subprocess.run(
		[sys.executable, "-c", script], cwd=APP.parent, capture_output=True, text=True, check=False
	)
	assert done.returncode == 0, done.stderr


def test_no_package_is_named_after_a_standard_library_module():
	packages = [path.name for path in APP.iterdir() if (path / "__init__.py").exists()]
	assert not set(packages) & set(sys.stdlib_module_names)


def test_the_app_root_holds_only_what_frappe_looks_for_there():
	modules = {path.stem for path in APP.glob("*.py")}
	assert modules == {"__init__", "hooks", "commands", "errors", "test_in_bench"}


def test_the_patch_maps_every_old_module_to_one_that_exists():
	for old, new in MOVED_MODULES.items():
		relative = Path(*new.split(".")[1:])
		assert (APP / relative).with_suffix(".py").exists() or (APP / relative / "__init__.py").exists(), new
		old_relative = Path(*old.split(".")[1:])
		assert not (APP / old_relative).with_suffix(".py").exists(), old
	assert moved_path("press_selfhost.jobs.report_usage") == "press_selfhost.billing.jobs.report_usage"
	assert moved_path("press_selfhost.mail.process_postal_event") == (
		"press_selfhost.mail.send.process_postal_event"
	)
	assert (
		moved_path("press_selfhost.billing.jobs.report_usage") == "press_selfhost.billing.jobs.report_usage"
	)
	assert moved_path("frappe.utils.now") == "frappe.utils.now"
	assert moved_path(None) is None
