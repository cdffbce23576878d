"""The documentation's claims about this repository hold (README.md and every page under docs/), and
each check catches the rot it exists for."""

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
	check_every_page_is_linked,
	check_links,
	check_profiles_table,
	check_repository_paths,
	check_settings_fields,
	check_sizing_table,
	check_sso_routes,
	check_tables,
	documents,
	heading_anchors,
)

REPOSITORY = Path(__file__).resolve().parent.parent
SETTINGS = json.loads((REPOSITORY / SETTINGS_JSON).read_text())


def test_every_claim_the_checks_read_holds():
	assert check_all(REPOSITORY) == []


def test_the_checks_read_the_readme_and_every_page_under_docs():
	pages = {path.relative_to(REPOSITORY).as_posix() for path in documents(REPOSITORY)}
	assert pages == {"README.md"} | {
		path.relative_to(REPOSITORY).as_posix() for path in (REPOSITORY / "docs").rglob("*.md")
	}


def test_a_renamed_function_or_module_is_caught():
	assert check_dotted_paths("`press_selfhost.api.lago.webhook`", REPOSITORY) == []
	assert check_dotted_paths("`press_selfhost.routing.proxy_agent`", REPOSITORY) == []
	assert check_dotted_paths("run `press_selfhost.api.lago.web_hook`", REPOSITORY) == [
		"names press_selfhost.api.lago.web_hook, but press_selfhost.api.lago defines no web_hook"
	]
	assert "does not exist" in check_dotted_paths("`press_selfhost.billing_api.invoices`", REPOSITORY)[0]


def test_a_setting_that_does_not_exist_is_caught():
	assert check_settings_fields("`lago_api_key`, Selfhost Settings → Lago Team Plan", SETTINGS) == []
	assert check_settings_fields("set `lago_api_token`", SETTINGS) == [
		"names the setting `lago_api_token`, which Selfhost Settings does not have"
	]
	assert check_settings_fields("in Selfhost Settings →\nLago Team Code.", SETTINGS) == [
		"says 'Selfhost Settings → Lago Team Code', which is no field or section"
	]


def test_a_missing_file_is_caught():
	assert check_repository_paths("`tests/test_lago.py`, `compose/.env`", REPOSITORY) == []
	assert check_repository_paths("`tests/test_billing.py`", REPOSITORY) == [
		"names tests/test_billing.py, which does not exist"
	]


def test_an_environment_variable_nothing_uses_is_caught():
	assert check_environment_names("`TRAEFIK_PROVIDER_TOKEN`", REPOSITORY) == []
	assert check_environment_names("`TRAEFIK_PROVIDER_SECRET`", REPOSITORY) == [
		"names TRAEFIK_PROVIDER_SECRET, which nothing in compose/, press_selfhost/ or tests/ uses"
	]


def test_a_bench_command_or_option_that_does_not_exist_is_caught():
	commands = bench_commands(REPOSITORY / COMMANDS_PY)
	assert {"bootstrap", "doctor", "preview-mail"} <= set(commands)
	assert check_bench_commands("bench press-selfhost doctor [--json]", commands) == []
	assert check_bench_commands("press-selfhost bootstrap --force", commands) == [
		"runs `press-selfhost bootstrap --force`, an option it does not have"
	]
	assert check_bench_commands("press-selfhost repair", commands) == [
		"runs `press-selfhost repair`, which commands.py does not define"
	]


def test_a_profiles_row_that_differs_from_compose_is_caught():
	document = compose.load_raw(REPOSITORY / "compose" / "compose.yaml")
	readme = (
		"### Profiles\n\n| profile | services | without it |\n|---|---|---|\n"
		"| `sso` | keycloak, keycloak-db | Press's own login |\n\nChoose with ..."
	)
	assert check_profiles_table(readme, document) == [
		"Profiles row sso: missing [], not in compose ['keycloak-db']"
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
		"Sizing table: AGENT_MEMORY is 8g for large, sizes/large.env has 4g"
	]
	assert check_sizing_table(
		readme.replace("8g", "4g"), sizes, {"AGENT_WORKERS": "3", "AGENT_MEMORY": "1g"}
	) == ["compose/.env.example's AGENT_WORKERS=3 is not the small size's 2"]


def test_a_login_page_that_does_not_exist_is_caught():
	assert check_sso_routes("`/auth/keycloak/login?provider=google`", REPOSITORY) == []
	assert check_sso_routes("`/auth/keycloak/signin`", REPOSITORY) == [
		"names /auth/keycloak/signin, which press_selfhost does not serve",
		"names /auth/keycloak/signin, which tenant/press_selfhost_tenant does not serve",
	]


def test_the_tables_are_checked_in_whichever_page_holds_them():
	document = {"services": {"keycloak": {"profiles": ["sso"]}, "traefik": {}}}
	sizes = {size: {"AGENT_WORKERS": "2"} for size in ("small", "medium", "large")}
	profiles = "| profile | services | without it |\n|---|---|---|\n| `sso` | keycloak, keycloak-db | - |\n"
	sizing = "| setting | small | medium | large |\n|---|---|---|---|\n| `AGENT_WORKERS` | 2 | 2 | 3 |\n"
	pages = {
		"README.md": "# press_selfhost\n\nSee the docs.\n",
		"docs/operator/stack.md": f"# The stack\n\n## Profiles\n\n{profiles}\nChoose ...\n",
		"docs/operator/sizing.md": f"# Sizing\n\nThree sizes:\n\n{sizing}\nThe sites ...\n",
	}
	assert check_tables(pages, document, sizes, {"AGENT_WORKERS": "2"}) == [
		"docs/operator/stack.md: Profiles row sso: missing [], not in compose ['keycloak-db']",
		"docs/operator/sizing.md: Sizing table: AGENT_WORKERS is 3 for large, sizes/large.env has 2",
	]
	assert check_tables(
		{"README.md": "# Sizing, in a code block:\n\n```\n# Profiles\n```\n"}, document, sizes, {}
	) == [
		"no page has a Profiles heading, so its table against compose/ goes unchecked",
		"no page has a Sizing heading, so its table against compose/ goes unchecked",
	]


def test_a_link_to_a_missing_page_or_heading_is_caught(tmp_path):
	(tmp_path / "docs" / "operator").mkdir(parents=True)
	sizing = tmp_path / "docs" / "operator" / "sizing.md"
	sizing.write_text("# Sizing\n\n## Scale-out (on paper)\n\n```sh\n# Not a heading\n```\n")
	page = tmp_path / "docs" / "billing.md"
	text = (
		"[Sizing](operator/sizing.md), [on paper](operator/sizing.md#scale-out-on-paper), [top](#billing),"
		" [Press](https://github.com/frappe/press), [notes](../../shared/DESIGN.md), `[not](a-link.md)`\n"
		"[gone](operator/scaling.md) [stale](operator/sizing.md#scale-out)"
		" [code](operator/sizing.md#not-a-heading)\n"
	)
	page.write_text("# Billing\n\n" + text)
	assert check_links(page, page.read_text(), tmp_path) == [
		"links to operator/scaling.md, which does not exist",
		"links to operator/sizing.md#scale-out, but sizing.md has no heading with anchor #scale-out",
		"links to operator/sizing.md#not-a-heading, but sizing.md has no heading with anchor #not-a-heading",
	]


def test_anchors_are_the_ones_github_makes():
	page = "# Mail\n\n## Settings (desk → Selfhost Settings → Postal)\n\n## The platform's mails\n\n## Mail\n"
	assert heading_anchors(page) == {
		"mail",
		"settings-desk--selfhost-settings--postal",
		"the-platforms-mails",
		"mail-1",
	}


def test_a_page_no_one_links_to_is_caught(tmp_path):
	(tmp_path / "docs").mkdir()
	(tmp_path / "README.md").write_text("# press_selfhost\n\n[Mail](docs/mail.md#mail)\n")
	(tmp_path / "docs" / "mail.md").write_text("# Mail\n\nBack to [the front page](../README.md).\n")
	(tmp_path / "docs" / "routing.md").write_text("# Routing\n\nSee [Mail](mail.md).\n")
	assert check_every_page_is_linked(tmp_path) == ["docs/routing.md: no other page links to it"]
