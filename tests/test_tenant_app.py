"""The tenant app (tenant/press_selfhost_tenant) as Frappe and the bench image will see it: a valid
Frappe shell, the routes the site clients register in Keycloak, and a press_selfhost core that
imports without Press's dependencies (the bench image installs press_selfhost with --no-deps)."""

import subprocess
import sys
from pathlib import Path

from press_selfhost.identity.site_clients import SITE_BACKCHANNEL_LOGOUT_PATH, SITE_CALLBACK_PATH
from tests.support.frappe_shell import check_app

REPOSITORY = Path(__file__).resolve().parent.parent
TENANT_DIR = REPOSITORY / "tenant"
APP_DIR = TENANT_DIR / "press_selfhost_tenant"
# What a tenant bench has anyway (Frappe's own dependencies) and what the core may use of it.
ALLOWED_THIRD_PARTY = {"requests", "jwt", "cryptography", "urllib3", "idna", "certifi", "charset_normalizer"}


def test_the_tenant_app_passes_the_frappe_shell_checks():
	assert check_app(APP_DIR) == []


def test_the_app_serves_the_routes_its_keycloak_client_registers():
	routes = (
		"/auth/keycloak/login",
		SITE_CALLBACK_PATH,
		"/auth/keycloak/logout",
		SITE_BACKCHANNEL_LOGOUT_PATH,
	)
	for path in routes:
		page = APP_DIR / "www" / f"{path.lstrip('/')}.py"
		assert page.exists() and page.with_suffix(".html").exists(), path


def test_the_tenant_package_is_installable_as_its_own_app():
	try:
		import tomllib
	except ModuleNotFoundError:  # Python 3.10
		import tomli as tomllib
	project = tomllib.loads((TENANT_DIR / "pyproject.toml").read_text())["project"]
	assert project["name"] == APP_DIR.name and project["dependencies"] == []
	assert (APP_DIR / "modules.txt").read_text().strip() == "Press Selfhost Tenant"
	assert (APP_DIR / "press_selfhost_tenant" / "__init__.py").exists()  # the module's package
	assert "__version__" in (APP_DIR / "__init__.py").read_text()


def test_the_core_the_tenant_app_uses_needs_no_press_side_dependency():
	"""Import it with every third-party package except Frappe's own blocked."""
	script = f"""
import importlib.abc, sys
allowed = {sorted(ALLOWED_THIRD_PARTY)!r}
stdlib = set(sys.stdlib_module_names)
class Block(importlib.abc.MetaPathFinder):
	def find_spec(self, name, path=None, target=None):
		top = name.partition(".")[0]
		if top in stdlib or top in allowed or top == "press_selfhost" or top.startswith("_"):
			return None
		raise ImportError("blocked: " + name)
sys.meta_path.insert(0, Block())
import press_selfhost.identity.tenant_login, press_selfhost.identity.rules, press_selfhost.identity.keycloak
print("ok")
"""
	result = subprocess.run(
		[sys.executable, "-c", script], cwd=REPOSITORY, capture_output=True, text=True, timeout=60
	)
	assert result.stdout.strip() == "ok", result.stderr


def test_the_bench_image_carries_the_core_without_dependencies_and_the_tenant_app():
	dockerfile = (REPOSITORY / "compose" / "images" / "bench" / "Dockerfile").read_text()
	assert "pip install --no-cache-dir --no-deps /home/frappe/press-selfhost-core" in dockerfile
	assert "COPY --chown=frappe:frappe tenant apps/press_selfhost_tenant" in dockerfile
	# apps.txt lists what apps/ holds (the tenant app among them), one per line, as frappe_docker writes it
	assert "ls -1 apps > sites/apps.txt" in dockerfile
	# press_selfhost itself is a library there (pip, not apps/), never a Frappe app of the tenant bench
	assert "apps/press_selfhost " not in dockerfile and "echo press_selfhost >>" not in dockerfile
	supervisor = (REPOSITORY / "compose" / "images" / "bench" / "config" / "supervisor.conf").read_text()
	assert "--bind 0.0.0.0:8000" in supervisor and "bench worker" in supervisor


def test_bootstrap_puts_the_tenant_app_into_the_release_group_and_its_build():
	from press_selfhost.setup.bootstrap_plan import plan_bootstrap
	from tests.test_bootstrap_plan import PRESS_FEB_2025, SETTINGS

	actions = {action.key: action for action in plan_bootstrap(SETTINGS, {}, PRESS_FEB_2025)}
	group_apps = [row["app"] for row in actions["Release Group"].children["apps"]]
	built_apps = [row["app"] for row in actions["Deploy Candidate"].children["apps"]]
	assert group_apps == built_apps == ["frappe", APP_DIR.name]
	assert actions["Tenant App Source"].fields["last_github_poll_failed"] == 1
	assert actions["Tenant App Release"].fields["status"] == "Approved"
