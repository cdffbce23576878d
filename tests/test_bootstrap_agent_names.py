"""The servers bootstrap creates carry exactly the names compose answers for on the agents entrypoint.

Press reaches a server only at `https://<record name>:443/agent/` (press-bootstrap.md §9), so the
names in the plan, Traefik's network aliases, the agent certificate's SANs, the routers of
traefik/dynamic/platform.yml and the agents' own names must be one set. The bench test
tests/frappe/test_sites_through_agents.py drives that path end to end; this keeps the pieces in
step without Docker or Frappe, for any domain.
"""

import re

import pytest

from press_selfhost.routing.proxy_agent.app import ProxyAgentConfig
from press_selfhost.routing.proxy_agent.password import hash_password
from press_selfhost.setup.bootstrap_plan import plan_bootstrap
from tests.support.agent_entrypoint import PLATFORM_TEMPLATE
from tests.support.compose import Interpolator, load_raw
from tests.test_bootstrap_plan import PRESS_AUG_2026, PRESS_FEB_2025, SETTINGS

DOMAINS = ["example.com", "cloud.acme-hosting.co.uk", "e2e.selfhost.test"]


def planned_names(domain: str, capabilities) -> dict[str, str]:
	settings = SETTINGS.__class__(**{**SETTINGS.__dict__, "domain": domain})
	actions = plan_bootstrap(settings, {}, capabilities)
	return {action.key: action.name for action in actions if action.key in ("Server", "Proxy Server")}


def compose_value(text: str, domain: str) -> str:
	return Interpolator({"DOMAIN": domain}).interpolate(text)


def routed_hosts(domain: str) -> dict[str, str]:
	"""platform.yml's agent routers as Traefik renders them: host → compose service."""
	template = PLATFORM_TEMPLATE.read_text().replace("{{ $domain }}", domain)
	routers = re.findall(
		r"    agent-\w+:\n      rule: \"Host\(`([^`]+)`\) && PathPrefix\(`/agent`\)\"\n(?:      .*\n)*?      service: (\S+)",
		template,
	)
	return dict(routers)


@pytest.mark.parametrize("domain", DOMAINS)
@pytest.mark.parametrize("capabilities", [PRESS_FEB_2025, PRESS_AUG_2026], ids=["feb-2025", "aug-2026"])
def test_planned_server_names_are_the_names_compose_answers_for(domain, capabilities):
	names = planned_names(domain, capabilities)
	services = load_raw()["services"]
	aliases = {
		compose_value(alias, domain) for alias in services["traefik"]["networks"]["backend"]["aliases"]
	}
	certificate_names = {compose_value(name, domain) for name in services["agent-ca"]["command"][2:]}
	assert set(names.values()) == aliases == certificate_names

	hosts = routed_hosts(domain)
	assert hosts == {names["Server"]: "agent", names["Proxy Server"]: "proxy-agent"}
	# the stock agent calls itself by the Server record's name (its nginx server_name, its role)
	assert compose_value(services["agent"]["environment"]["AGENT_NAME"], domain) == names["Server"]


@pytest.mark.parametrize("domain", DOMAINS)
def test_the_planned_proxy_server_name_is_one_the_proxy_agent_accepts(domain):
	name = planned_names(domain, PRESS_FEB_2025)["Proxy Server"]
	ProxyAgentConfig(name, hash_password("password"), "jobs.sqlite3").validate()
