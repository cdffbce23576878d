"""The doctor's checks of routing: the endpoint Traefik polls, the stock Agent and the proxy service.
Framework-free."""

from collections.abc import Mapping

import requests

from press_selfhost.errors import ServiceError, ServiceRejectedError
from press_selfhost.routing.agent import AgentClient, AgentSettings
from press_selfhost.setup.health import (
	Check,
	CheckFailed,
	dashboard_host,
	json_document,
	press_refusal,
	press_site_headers,
)

# The port press_selfhost's proxy service listens on in compose (as the stock agent's web does).
PROXY_AGENT_PORT = 25052
# hooks.py gives press_selfhost.api.traefik.config this name: Press's auth hook lets Guests reach press.api.*.
ROUTING_CONFIG_METHOD = "press.api.selfhost_traefik.config"
ROUTING_CONFIG_PATH = f"/api/method/{ROUTING_CONFIG_METHOD}"


def proxy_agent_url(proxy_address: str) -> str:
	"""proxy_server_private_ip as a URL: a full URL as is, `host:port`, or a host on the service's port."""
	if "://" in proxy_address:
		return proxy_address.rstrip("/")
	if proxy_address.count(":") == 1 or proxy_address.startswith("["):
		return f"http://{proxy_address}"
	host = f"[{proxy_address}]" if ":" in proxy_address else proxy_address  # a bare IPv6 address
	return f"http://{host}:{PROXY_AGENT_PORT}"


def _ping_check(name: str, url: str, password: str, fields: tuple[str, str], timeout: float) -> Check:
	url_field, password_field = fields

	def probe() -> str:
		client = AgentClient(
			AgentSettings(url, password, connect_timeout=timeout, read_timeout=timeout, retries=0)
		)
		try:
			answered = client.ping()
		except ServiceRejectedError as error:
			if error.status_code == 401:
				raise CheckFailed(
					f"{url} refused the password",
					f"Set {password_field} in Selfhost Settings to the password that agent was set up with.",
				) from None
			raise CheckFailed(
				f"{url} refused the ping ({error})",
				f"Point {url_field} at the agent itself (its /ping must answer).",
			) from None
		except ServiceError as error:
			raise CheckFailed(
				f"{url} is unreachable ({error})",
				f"Start the agent and check {url_field} in Selfhost Settings.",
			) from None
		if not answered:
			raise CheckFailed(
				f"{url} answered the ping without 'pong'",
				f"Point {url_field} at the agent itself, not at another web server.",
			)
		return f"{url} answers ping with the stored password"

	return Check(name, probe, timeout=timeout * 3, fix_on_error=f"Check {url_field} and {password_field}.")


def agent_ping_check(agent_url: str, password: str, *, timeout: float = 5.0) -> Check:
	"""Press sends every site job to the stock Agent, authenticated by agent_password."""
	return _ping_check("Agent ping", agent_url, password, ("agent_url", "agent_password"), timeout)


def proxy_agent_ping_check(proxy_address: str, password: str, *, timeout: float = 5.0) -> Check:
	"""Press sends its proxy jobs to press_selfhost's proxy service with the Proxy Server's password."""
	return _ping_check(
		"Proxy service ping",
		proxy_agent_url(proxy_address),
		password,
		("proxy_server_private_ip", "proxy_agent_password"),
		timeout,
	)


def routing_endpoint_check(press_url: str, domain: str, token: str, *, timeout: float = 5.0) -> Check:
	"""Traefik polls this endpoint with the token for every route; without it no site is reachable.

	The request is Traefik's: a Guest with X-Traefik-Token, and cloud.<domain> as the Host and the
	Frappe site. A second poll without the token must be refused, or every route leaks.
	"""
	url = press_url.rstrip("/") + ROUTING_CONFIG_PATH

	def probe() -> str:
		routers = _traefik_routers(_poll(url, domain, token, timeout), url, domain)
		without_token = _poll(url, domain, None, timeout)
		if without_token.status_code == 200:
			raise CheckFailed(
				f"{url} answers without the token: anyone can read every route",
				"Update press_selfhost on Press: the routing endpoint must refuse a poll without the token.",
			)
		if not _token_required(without_token):
			raise CheckFailed(
				f"{url} answered a poll without the token with HTTP {without_token.status_code}, not 401",
				"Read Press's error log: the routing endpoint must refuse a poll without the token with 401.",
			)
		return (
			f"{dashboard_host(domain)} serves Traefik {len(routers)} router(s) for the token, none without it"
		)

	return Check(
		"Traefik routing endpoint",
		probe,
		timeout=timeout * 3,
		fix_on_error="Check press_upstream_url, domain and traefik_config_token.",
	)


def _poll(url: str, domain: str, token: str | None, timeout: float) -> requests.Response:
	"""GET the routing endpoint as Traefik's HTTP provider does: a Guest, with the token header if given."""
	headers = press_site_headers(domain)
	if token is not None:
		headers["X-Traefik-Token"] = token
	try:
		return requests.get(url, headers=headers, timeout=timeout)
	except requests.RequestException as error:
		raise CheckFailed(
			f"{url} is unreachable ({type(error).__name__})",
			"Start Press's web server and check press_upstream_url in Selfhost Settings.",
		) from None


def _token_required(response: requests.Response) -> bool:
	"""The routing endpoint's own refusal, as opposed to Press's or Frappe's."""
	document = json_document(response)
	return (
		response.status_code == 401
		and isinstance(document, Mapping)
		and document.get("error") == "token required"
	)


def _traefik_routers(response: requests.Response, url: str, domain: str) -> Mapping:
	"""The routers of Traefik's configuration in the answer to a poll with the token, or why there are none."""
	refusal = press_refusal(response, "Traefik", ROUTING_CONFIG_METHOD)
	if refusal:
		raise refusal
	if _token_required(response):
		raise CheckFailed(
			f"the routing endpoint refused the token (HTTP {response.status_code})",
			"Set traefik_config_token to the token in Traefik's providers.http headers (compose/.env).",
		)
	if response.status_code == 404:
		raise CheckFailed(
			f"{url} for site {dashboard_host(domain)} answered HTTP 404",
			"Check domain (the Press site must be cloud.<domain>) and that press_selfhost is installed on it.",
		)
	if response.status_code != 200:
		raise CheckFailed(
			f"{url} answered HTTP {response.status_code}",
			"Read Press's error log: the routing endpoint must answer 200.",
		)
	document = json_document(response)
	routers = document.get("http", {}).get("routers") if isinstance(document, Mapping) else None
	if not isinstance(routers, Mapping):
		raise CheckFailed(
			f"{url} did not answer with a Traefik configuration",
			"Point press_upstream_url at Press's web server, not at a proxy page.",
		)
	return routers
