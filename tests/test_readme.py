"""The README's claims about this repository hold, and each check catches the rot it exists for."""

import json
from pathlib import Path

from tests.support import compose
from tests.support.readme import (
	COMMANDS_PY,
	SETTINGS_JSON,
	bench_commands,
	check_all,
	check_bench_commands,
	check_dotted_paths,
	check_environment_names,
	check_profiles_table,
	check_repository_paths,
	check_settings_fields,
	check_sizing_table,
	check_sso_routes,
)

REPOSITORY = Path(__file__).resolve().parent.parent
SETTINGS = json.loads((REPOSITORY / SETTINGS_JSON).read_text())


def test_every_claim_the_checks_read_holds():
	assert check_all(REPOSITORY) == []


def test_a_renamed_function_or_module_is_caught():
	assert check_dotted_paths("`press_selfhost.api.lago.webhook`", REPOSITORY) == []
	assert check_dotted_paths("`press_selfhost.routing.proxy_agent`", REPOSITORY) == []
	assert check_dotted_paths("run `press_selfhost.api.lago.web_hook`", REPOSITORY) == [
		"README names press_selfhost.api.lago.web_hook, but press_selfhost.api.lago defines no web_hook"
	]
	assert "does not exist" in check_dotted_paths("`press_selfhost.billing_api.invoices`", REPOSITORY)[0]


def test_a_setting_that_does_not_exist_is_caught():
	assert check_settings_fields("`lago_api_key`, Selfhost Settings → Lago Team Plan", SETTINGS) == []
	assert check_settings_fields("set `lago_api_token`", SETTINGS) == [
		"README names the setting `lago_api_token`, which Selfhost Settings does not have"
	]
	assert check_settings_fields("in Selfhost Settings →\nLago Team Code.", SETTINGS) == [
		"README says 'Selfhost Settings → Lago Team Code', which is no field or section"
	]


def test_a_missing_file_is_caught():
	assert check_repository_paths("`tests/test_lago.py`, `compose/.env`", REPOSITORY) == []
	assert check_repository_paths("`tests/test_billing.py`", REPOSITORY) == [
		"README names tests/test_billing.py, which does not exist"
	]


def test_an_environment_variable_nothing_uses_is_caught():
	assert check_environment_names("`TRAEFIK_PROVIDER_TOKEN`", REPOSITORY) == []
	assert check_environment_names("`TRAEFIK_PROVIDER_SECRET`", REPOSITORY) == [
		"README names TRAEFIK_PROVIDER_SECRET, which nothing in compose/, press_selfhost/ or tests/ uses"
	]


def test_a_bench_command_or_option_that_does_not_exist_is_caught():
	commands = bench_commands(REPOSITORY / COMMANDS_PY)
	assert {"bootstrap", "doctor", "preview-mail"} <= set(commands)
	assert check_bench_commands("bench press-selfhost doctor [--json]", commands) == []
	assert check_bench_commands("press-selfhost bootstrap --force", commands) == [
		"README runs `press-selfhost bootstrap --force`, an option it does not have"
	]
	assert check_bench_commands("press-selfhost repair", commands) == [
		"README runs `press-selfhost repair`, which commands.py does not define"
	]


def test_a_profiles_row_that_differs_from_compose_is_caught():
	document = compose.load_raw(REPOSITORY / "compose" / "compose.yaml")
	readme = (
		"### Profiles\n\n| profile | services | without it |\n|---|---|---|\n"
		"| `sso` | keycloak, keycloak-db | Press's own login |\n\nChoose with ..."
	)
	assert check_profiles_table(readme, document) == [
		"README's Profiles row sso: missing [], not in compose ['keycloak-db']"
	]


def test_a_size_that_differs_from_its_env_file_is_caught():
	readme = (
		"### Sizing\n\nThree sizes:\n\n| setting | small (≈10 sites) | medium (≈100) | large (500+) |\n|---|---|---|---|\n"
		"| `AGENT_WORKERS`, `AGENT_MEMORY` | 2, 1g | 4, 2g | 8, 8g |\n\nThe sites ..."
	)
	sizes = {
		"small": {"AGENT_WORKERS": "2", "AGENT_MEMORY": "1g"},
		"medium": {"AGENT_WORKERS": "4", "AGENT_MEMORY": "2g"},
		"large": {"AGENT_WORKERS": "8", "AGENT_MEMORY": "4g"},
	}
	assert check_sizing_table(readme, sizes, {"AGENT_WORKERS": "2", "AGENT_MEMORY": "1g"}) == [
		"README's Sizing table: AGENT_MEMORY is 8g for large, sizes/large.env has 4g"
	]
	assert check_sizing_table(
		readme.replace("8g", "4g"), sizes, {"AGENT_WORKERS": "3", "AGENT_MEMORY": "1g"}
	) == ["compose/.env.example's AGENT_WORKERS=3 is not the small size's 2"]


def test_a_login_page_that_does_not_exist_is_caught():
	assert check_sso_routes("`/auth/keycloak/login?provider=google`", REPOSITORY) == []
	assert check_sso_routes("`/auth/keycloak/signin`", REPOSITORY) == [
		"README names /auth/keycloak/signin, which press_selfhost does not serve",
		"README names /auth/keycloak/signin, which tenant/press_selfhost_tenant does not serve",
	]
