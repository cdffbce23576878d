"""The doctor's checks of billing: Lago's API key, the webhook Lago has registered, and that Lago's
deliveries reach press_selfhost through Press's auth hook. Framework-free."""

from press_selfhost.billing.lago import LagoGateway
from press_selfhost.errors import ServiceError, ServiceRejectedError
from press_selfhost.setup.health import Check, CheckFailed, dashboard_host, guest_webhook_probe

# hooks.py gives press_selfhost.api.lago.webhook this name: Press's auth hook lets Guests reach press.api.*.
LAGO_WEBHOOK_METHOD = "press.api.selfhost_lago.webhook"
LAGO_WEBHOOK_PATH = f"/api/method/{LAGO_WEBHOOK_METHOD}"
# The endpoint's own name, which Press's auth hook refuses to Lago (a Guest): registered before the alias.
OLD_LAGO_WEBHOOK_PATH = "/api/method/press_selfhost.api.lago.webhook"
# compose/: Traefik's internal `webhooks` entrypoint (never published) passes the webhook paths to
# Press with Press's site name, so Lago reaches Press inside the stack whatever DOMAIN resolves to
# (`localhost` included). tests/test_compose_agent_route.py drives this URL through the real Traefik.
STACK_WEBHOOKS_URL = "http://traefik:8081"
STACK_LAGO_WEBHOOK_URL = f"{STACK_WEBHOOKS_URL}{LAGO_WEBHOOK_PATH}"


def lago_webhook_url(domain: str, path: str = LAGO_WEBHOOK_PATH) -> str:
	"""Press's public webhook URL: what Lago sends to when it runs outside the compose stack."""
	return f"https://{dashboard_host(domain)}{path}"


def lago_webhook_urls(domain: str, path: str = LAGO_WEBHOOK_PATH) -> tuple[str, str]:
	"""Where Lago may send its webhooks: inside the compose stack, or Press's public URL."""
	return (f"{STACK_WEBHOOKS_URL}{path}", lago_webhook_url(domain, path))


def _lago_webhook_urls(api_url: str, api_key: str) -> list[str]:
	try:
		return LagoGateway(api_url, api_key).webhook_endpoint_urls()
	except ServiceRejectedError as error:
		if error.status_code == 401:
			raise CheckFailed(
				"Lago refused the API key (HTTP 401)",
				"Copy the API key from Lago (Developers → API keys) into lago_api_key.",
			) from None
		raise CheckFailed(
			f"Lago refused to list webhook endpoints ({error})",
			"Check lago_api_url: it must be Lago's API, for example http://lago-api:3000.",
		) from None
	except ServiceError as error:
		raise CheckFailed(
			f"Lago at {api_url} is unreachable ({error})",
			"Start Lago's API and check lago_api_url in Selfhost Settings.",
		) from None


def lago_api_key_check(api_url: str, api_key: str, *, timeout: float = 10.0) -> Check:
	"""Every billing call carries this key; listing webhook endpoints is a cheap authenticated read."""

	def probe() -> str:
		_lago_webhook_urls(api_url, api_key)
		return f"Lago at {api_url} accepts the API key"

	return Check("Lago API key", probe, timeout=timeout, fix_on_error="Check lago_api_url and lago_api_key.")


def lago_webhook_check(api_url: str, api_key: str, domain: str, *, timeout: float = 10.0) -> Check:
	"""Payments and suspensions reach Press only through Lago's webhook to our endpoint's press.api name."""
	accepted = lago_webhook_urls(domain)
	old = lago_webhook_urls(domain, OLD_LAGO_WEBHOOK_PATH)

	def probe() -> str:
		registered = {url.rstrip("/") for url in _lago_webhook_urls(api_url, api_key)}
		found = [url for url in accepted if url in registered]
		if found:
			return f"Lago sends its webhooks to {found[0]}"
		stack_url, public_url = accepted
		for old_url, new_url in zip(old, accepted, strict=True):
			if old_url in registered:
				raise CheckFailed(
					f"old URL registered: Lago sends its webhooks to {old_url}, which Press's auth hook"
					" refuses to Lago (Guest)",
					f"Update the webhook in Lago → Developers → Webhooks to {new_url}.",
				)
		raise CheckFailed(
			f"Lago has no webhook endpoint {stack_url} or {public_url} ({len(registered)} other endpoint(s))",
			f"Add {stack_url} (Lago in the compose stack) or {public_url} (Lago elsewhere) in"
			" Lago → Developers → Webhooks.",
		)

	return Check("Lago webhook", probe, timeout=timeout, fix_on_error="Check lago_api_url and lago_api_key.")


def lago_webhook_reachable_check(press_url: str, domain: str, *, timeout: float = 5.0) -> Check:
	"""Lago delivers as Guest: an unsigned POST must reach our endpoint (and be refused there)."""

	def probe() -> str:
		return guest_webhook_probe(
			"Lago",
			press_url,
			domain,
			LAGO_WEBHOOK_METHOD,
			unavailable_fix="Check lago_api_url and lago_api_key: the webhook verifies with Lago's public key.",
			timeout=timeout,
		)

	return Check(
		"Lago webhook reachable",
		probe,
		timeout=timeout * 2,
		fix_on_error="Check press_upstream_url and domain in Selfhost Settings.",
	)
