"""Every endpoint is reachable by its real caller through Press's auth hook, in every Press we run on.

Lago, Postal and Traefik call as Guest; dashboard customers are Website Users; only the desk's
admins are System Users, whom the hook never refuses. An endpoint that someone outside the desk calls
needs a `press.api.` name (hooks.py, override_whitelisted_methods). A new whitelisted method fails
here until its caller is named, so no endpoint can be unreachable again without a red test.
"""

import ast
from pathlib import Path

import pytest

from press_selfhost import hooks
from tests.support.press_auth import PRESS_VERSIONS

REPOSITORY = Path(__file__).resolve().parent.parent
API = REPOSITORY / "press_selfhost" / "api"

GUEST, CUSTOMER, ADMIN = "Guest", "Website User", "System User"

# Each whitelisted method of press_selfhost/api/ and who calls it.
ENDPOINT_CALLERS = {
	"press_selfhost.api.lago.webhook": GUEST,  # Lago's webhook delivery
	"press_selfhost.api.postal.webhook": GUEST,  # Postal's webhook delivery
	"press_selfhost.api.traefik.config": GUEST,  # Traefik's HTTP provider, with its token
	"press_selfhost.api.dashboard_login.signup_settings": GUEST,  # the dashboard's login page
	"press_selfhost.api.dashboard_login.oauth_authorize_url": GUEST,
	"press_selfhost.api.dashboard_login.google_login": GUEST,
	"press_selfhost.api.signup.validate_request_key": GUEST,  # the dashboard's setup-account page
	"press_selfhost.api.billing.checkout_url": CUSTOMER,
	"press_selfhost.api.billing.invoices": CUSTOMER,
	"press_selfhost.api.billing.invoice_pdf_url": CUSTOMER,
	"press_selfhost.api.billing.invoice_payment_url": CUSTOMER,
	"press_selfhost.api.sites.new": CUSTOMER,  # the dashboard's New Site page
	"press_selfhost.api.sites.create": CUSTOMER,
	"press_selfhost.api.sites.progress": CUSTOMER,  # /site-progress
	"press_selfhost.api.sites.retry": CUSTOMER,
	"press_selfhost.api.site_sso.enable": CUSTOMER,
	"press_selfhost.api.site_sso.disable": CUSTOMER,
	"press_selfhost.api.site_sso.status": CUSTOMER,
	"press_selfhost.api.backups.ensure_buckets": ADMIN,
	"press_selfhost.api.backups.encrypted_download_url": ADMIN,
	"press_selfhost.api.inbox.replay": ADMIN,
}

# Where our own configuration names an endpoint URL, it must be the one its caller can reach.
CONFIGURATION = [
	REPOSITORY / "compose" / "compose.yaml",
	REPOSITORY / "compose" / "traefik" / "dynamic" / "platform.yml",
	REPOSITORY / "compose" / ".env.example",
	REPOSITORY / "press_selfhost" / "setup" / "doctor.py",
]


def _whitelisted() -> dict[str, bool]:
	"""Each whitelisted function of api/ → whether it allows Guests."""
	found = {}
	for path in sorted(API.glob("*.py")):
		for node in ast.parse(path.read_text()).body:
			if not isinstance(node, ast.FunctionDef):
				continue
			for decorator in node.decorator_list:
				call = decorator if isinstance(decorator, ast.Call) else None
				target = call.func if call else decorator
				if ast.unparse(target) == "frappe.whitelist":
					guest = any(
						k.arg == "allow_guest" and ast.literal_eval(k.value)
						for k in (call.keywords if call else [])
					)
					found[f"press_selfhost.api.{path.stem}.{node.name}"] = guest
	return found


def _names_for(endpoint: str) -> list[str]:
	return [name for name, target in hooks.override_whitelisted_methods.items() if target == endpoint]


def test_every_whitelisted_method_has_a_named_caller():
	assert set(_whitelisted()) == set(ENDPOINT_CALLERS)


def test_guest_endpoints_allow_guests_and_only_they_do():
	for endpoint, guest in _whitelisted().items():
		assert guest == (ENDPOINT_CALLERS[endpoint] == GUEST), endpoint


@pytest.mark.parametrize("rules", PRESS_VERSIONS, ids=lambda rules: rules.press_commit)
@pytest.mark.parametrize("endpoint", sorted(e for e, caller in ENDPOINT_CALLERS.items() if caller != ADMIN))
def test_outside_callers_reach_their_endpoint_through_the_auth_hook(endpoint, rules):
	caller = ENDPOINT_CALLERS[endpoint]
	names = _names_for(endpoint)
	assert names, f"{endpoint} has no press.api. name in hooks.override_whitelisted_methods"
	for name in names:
		assert rules.allows(f"/api/method/{name}", caller), name
	# Why the alias exists: the module's own path is refused to this caller.
	assert not rules.allows(f"/api/method/{endpoint}", caller)


@pytest.mark.parametrize("rules", PRESS_VERSIONS, ids=lambda rules: rules.press_commit)
def test_admin_endpoints_keep_their_own_names(rules):
	for endpoint, caller in ENDPOINT_CALLERS.items():
		if caller == ADMIN:
			assert rules.allows(f"/api/method/{endpoint}", ADMIN)


def test_the_hook_rules_refuse_what_press_refuses():
	for rules in PRESS_VERSIONS:
		assert not rules.allows("/api/method/press_selfhost.api.lago.webhook", GUEST)
		assert not rules.allows("/api/resource/Site", CUSTOMER)
		assert rules.allows("/api/method/press.api.site.all", CUSTOMER)
		assert rules.allows("/auth/keycloak/callback", GUEST)  # www routes are not /api/
		assert rules.allows("/api/resource/Site", ADMIN)


def test_our_configuration_calls_endpoints_by_the_names_their_callers_reach():
	for path in CONFIGURATION:
		assert "/api/method/press_selfhost." not in path.read_text(), path
