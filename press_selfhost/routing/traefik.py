"""Traefik v3 dynamic configuration built from Press's sites, so Traefik, not nginx, does the routing.

Traefik's HTTP provider polls our endpoint and replaces its whole dynamic configuration with the
answer. Everything here is pure: route records and settings in, a JSON-ready dict out, sorted so
that the same data always gives the same bytes and therefore the same ETag.
"""

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum


class SiteStatus(str, Enum):
	"""Press's Site statuses, and what each means to a visitor."""

	PENDING = "Pending"
	INSTALLING = "Installing"
	UPDATING = "Updating"
	RECOVERING = "Recovering"
	ACTIVE = "Active"
	INACTIVE = "Inactive"
	BROKEN = "Broken"
	SUSPENDED = "Suspended"
	ARCHIVED = "Archived"


# Updating and Recovering sites stay on their bench: the bench shows its own maintenance page.
SERVED_BY_BENCH = frozenset({SiteStatus.ACTIVE, SiteStatus.UPDATING, SiteStatus.RECOVERING})
SUSPENDED_PAGE_STATUSES = frozenset({SiteStatus.SUSPENDED})
UNAVAILABLE_PAGE_STATUSES = frozenset(
	{SiteStatus.INACTIVE, SiteStatus.BROKEN, SiteStatus.PENDING, SiteStatus.INSTALLING}
)

# When two records claim the same host, the one a visitor most likely means wins.
_STATUS_PRECEDENCE = {
	status: rank
	for rank, status in enumerate(
		(
			SiteStatus.ACTIVE,
			SiteStatus.UPDATING,
			SiteStatus.RECOVERING,
			SiteStatus.SUSPENDED,
			SiteStatus.INACTIVE,
			SiteStatus.BROKEN,
			SiteStatus.INSTALLING,
			SiteStatus.PENDING,
			SiteStatus.ARCHIVED,
		)
	)
}

_STATUS_BY_VALUE = {status.value: status for status in SiteStatus}  # str enum: members look up too

# A host goes into a rule between backticks: anything but a plain DNS name could change the rule.
HOSTNAME = re.compile(r"^(?=.{1,253}$)(?!-)[a-z0-9-]{1,63}(?<!-)(\.(?!-)[a-z0-9-]{1,63}(?<!-))+$")
# An app server: a DNS name or IPv4 address (Press's private_ip), with an optional port.
UPSTREAM = re.compile(r"^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*(:[0-9]{1,5})?$")

STATUS_PAGE_PATHS = {
	"suspended": "/assets/press_selfhost/status/suspended.html",
	"unavailable": "/assets/press_selfhost/status/unavailable.html",
}

DEFAULT_RATE_LIMITED_PATHS = (
	"/api/method/press_selfhost.api.lago.",
	"/api/method/press_selfhost.api.postal.",
	"/api/method/press.api.account.signup",
	"/api/method/press.api.account.verify_otp",
)


@dataclass(frozen=True, slots=True)
class Route:
	"""One host a visitor may type: a site's own name or one of its domains.

	`upstream` is where the site's bench answers: `<app server address>:<bench web port>` (a bare
	address means port 80, an nginx in front of the benches). `socketio_upstream`, when known, is
	the bench's socket.io port, which gets the host's `/socket.io` path. The Host header is passed
	through unchanged: the bench picks the site by it. `redirect_to`, when set, is the site's primary
	domain: the host answers a permanent redirect there, path and query kept (Press's "redirect to
	primary" of a Site Domain).
	"""

	host: str
	site: str
	upstream: str
	status: SiteStatus | str
	socketio_upstream: str = ""
	redirect_to: str = ""


@dataclass(frozen=True)
class RoutingSettings:
	"""What the configuration needs besides the sites (read from Selfhost Settings by the shell).

	An empty resolver name leaves TLS to Traefik's default certificate (tests, `localhost`).
	"""

	domain: str
	press_url: str
	status_page_url: str
	lago_front_url: str = ""
	root_domains: tuple[str, ...] = ()
	dns_cert_resolver: str = ""
	http_cert_resolver: str = ""
	web_entrypoint: str = "web"
	websecure_entrypoint: str = "websecure"
	# Per client address: enough for Lago's invoicing bursts from one host, too little for a flood.
	rate_limit_average: int = 60
	rate_limit_period: str = "1m"
	rate_limit_burst: int = 30
	rate_limited_paths: tuple[str, ...] = field(default=DEFAULT_RATE_LIMITED_PATHS)
	hsts_seconds: int = 31536000

	@property
	def wildcard_domains(self) -> tuple[str, ...]:
		return tuple(sorted({self.domain.lower(), *(d.lower() for d in self.root_domains)}))


def build_dynamic_config(routes: Iterable[Route], settings: RoutingSettings) -> dict:
	"""The full dynamic configuration: platform hosts, every routable site host, redirect, headers."""
	routers: dict[str, dict] = {}
	services: dict[str, dict] = {}
	middlewares = _middlewares(settings)
	tls_by_host = _TLSChooser(settings)
	_add_platform_routes(routers, services, settings, tls_by_host)

	# Lists shared by thousands of routers: built once, never mutated (it keeps 10,000 sites fast).
	entry_points = [settings.websecure_entrypoint]
	bench_middlewares = ["security-headers"]
	page_middlewares = {
		status: [
			"security-headers",
			"suspended-page" if status in SUSPENDED_PAGE_STATUSES else "unavailable-page",
		]
		for status in SiteStatus
	}
	upstream_services: dict[str, str] = {}
	redirect_middlewares: dict[str, list[str]] = {}

	def redirect_middleware(primary: str) -> list[str]:
		names = redirect_middlewares.get(primary)
		if names is None:
			name = "redirect-to-primary-" + primary.replace(".", "_")
			middlewares[name] = {
				"redirectRegex": {
					"regex": "^https?://[^/]+(.*)$",
					"replacement": f"https://{primary}${{1}}",
					"permanent": True,
				}
			}
			names = redirect_middlewares[primary] = ["security-headers", name]
		return names

	def upstream_service(upstream: str) -> str:
		service_name = upstream_services.get(upstream)
		if service_name is None:
			service_name = upstream_services[upstream] = "upstream-" + _safe_name(upstream)
			services[service_name] = _load_balancer(_upstream_url(upstream), pass_host=True)
		return service_name

	socketio_hosts: dict[str, list[str]] = {}
	for host, upstream, socketio_upstream, status, redirect_to in _routable(routes):
		if redirect_to:
			# Whatever the site's status: its primary domain shows the visitor what the status means.
			service_name = "noop@internal"
			middleware_names = redirect_middleware(redirect_to)
		elif status in SERVED_BY_BENCH:
			service_name = upstream_service(upstream)
			middleware_names = bench_middlewares
			if socketio_upstream:
				socketio_hosts.setdefault(socketio_upstream, []).append(host)
		else:
			# No server answers, so Traefik says 503 and the errors middleware fills in our page:
			# the visitor reads why, and search engines see a temporary outage, not new content.
			service_name = "no-server"
			middleware_names = page_middlewares[status]
		routers["site-" + host.replace(".", "_")] = {
			"entryPoints": entry_points,
			"middlewares": middleware_names,
			"rule": f"Host(`{host}`)",
			"service": service_name,
			"tls": tls_by_host(host),
		}
	# One socket.io router per bench, not per host: it keeps 10,000 sites within the same budget.
	# The certificate is chosen by SNI from those the sites' own routers obtain, hence `tls: {}`.
	for socketio_upstream, hosts in socketio_hosts.items():
		any_host = " || ".join(f"Host(`{host}`)" for host in hosts)
		routers["socketio-" + _safe_name(socketio_upstream)] = {
			"entryPoints": entry_points,
			"middlewares": bench_middlewares,
			"rule": f"PathPrefix(`/socket.io`) && ({any_host})",
			"service": upstream_service(socketio_upstream),
			"tls": {},
		}
	if "no-server" in {router["service"] for router in routers.values()}:
		services["status-pages"] = _load_balancer(settings.status_page_url, pass_host=False)
		services["no-server"] = {"loadBalancer": {"servers": []}}

	routers["http-to-https"] = {
		"entryPoints": [settings.web_entrypoint],
		"middlewares": ["redirect-to-https"],
		"priority": 1,
		"rule": "PathPrefix(`/`)",
		"service": "noop@internal",
	}
	return {
		"http": {
			"middlewares": _sorted(middlewares),
			"routers": _sorted(routers),
			"services": _sorted(services),
		}
	}


def serialize_config(config: Mapping) -> bytes:
	"""The bytes we serve: sorted keys, no spaces, so equal configurations are equal bytes."""
	return json.dumps(config, sort_keys=True, separators=(",", ":")).encode()


def config_etag(config: Mapping) -> str:
	"""A strong ETag of the configuration, stable across processes and runs."""
	return _etag_of(serialize_config(config))


def _etag_of(body: bytes) -> str:
	return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


# Press's Bench.validate: web_port = 18000 + port_offset, socketio_port = 19000 + port_offset; the
# stock agent publishes both on the app server (agent/bench.py, Bench.start).
BENCH_WEB_PORT_BASE = 18000
BENCH_SOCKETIO_PORT_BASE = 19000


def press_routes(
	sites: Iterable[Mapping],
	site_domains: Iterable[Mapping],
	servers: Iterable[Mapping],
	benches: Iterable[Mapping],
) -> list[Route]:
	"""Routes from Press rows as `frappe.get_all` returns them (one query per DocType, joined here).

	sites: name, status, server, bench, host_name; site_domains: domain, site, redirect_to_primary;
	servers: name, private_ip, ip, is_self_hosted (Press uses the public ip only for self-hosted
	servers); benches: name, port_offset. A site is reached on its bench's own ports at its server's
	address (no nginx in front of the benches: in compose/ that address is the bench gateway's); a
	site without a known server or bench gets no route. A domain marked redirect_to_primary, the
	site's own name included, redirects to the site's host_name (Press's primary domain).
	"""
	site_domains = list(site_domains)
	redirected = {domain["domain"] for domain in site_domains if domain.get("redirect_to_primary")}
	upstream_of_server = {
		server["name"]: (server.get("ip") if server.get("is_self_hosted") else server.get("private_ip"))
		for server in servers
	}
	offset_of_bench = {
		bench["name"]: bench["port_offset"]
		for bench in benches
		if isinstance(bench.get("port_offset"), int) and bench["port_offset"] >= 0
	}
	site_by_name = {}
	routes = []
	for site in sites:
		address = upstream_of_server.get(site.get("server"))
		offset = offset_of_bench.get(site.get("bench"))
		if not address or offset is None:
			continue
		upstream = f"{address}:{BENCH_WEB_PORT_BASE + offset}"
		socketio = f"{address}:{BENCH_SOCKETIO_PORT_BASE + offset}"
		primary = site.get("host_name") or site["name"]
		site_by_name[site["name"]] = (upstream, socketio, site["status"], primary)
		redirect_to = primary if site["name"] in redirected and primary != site["name"] else ""
		routes.append(Route(site["name"], site["name"], upstream, site["status"], socketio, redirect_to))
	for domain in site_domains:
		if domain["site"] in site_by_name and domain["domain"] != domain["site"]:
			upstream, socketio, status, primary = site_by_name[domain["site"]]
			name = domain["domain"]
			redirect_to = primary if name in redirected and primary != name else ""
			routes.append(Route(name, domain["site"], upstream, status, socketio, redirect_to))
	return routes


def _routable(routes: Iterable[Route]) -> list[tuple[str, str, str, SiteStatus, str]]:
	"""(host, upstream, socket.io upstream, status, redirect target) per valid host, sorted; the most
	live claim wins; Archived dropped; a redirect to an invalid host or to itself ignored."""
	chosen: dict[str, tuple[int, str, str, str, SiteStatus, str]] = {}
	for route in routes:
		status = _STATUS_BY_VALUE.get(route.status)
		if status is None or status is SiteStatus.ARCHIVED:
			continue
		host = route.host.strip().lower()
		if not HOSTNAME.match(host) or not UPSTREAM.match(route.upstream):
			continue
		socketio = route.socketio_upstream if UPSTREAM.match(route.socketio_upstream) else ""
		redirect_to = route.redirect_to and route.redirect_to.strip().lower()
		if redirect_to and (redirect_to == host or not HOSTNAME.match(redirect_to)):
			redirect_to = ""
		candidate = (_STATUS_PRECEDENCE[status], route.site, route.upstream, socketio, status, redirect_to)
		current = chosen.get(host)
		if current is None or candidate[:2] < current[:2]:
			chosen[host] = candidate
	return [(host, *chosen[host][2:]) for host in sorted(chosen)]


def _add_platform_routes(routers: dict, services: dict, settings: RoutingSettings, tls_by_host) -> None:
	"""cloud.<domain> → Press (public endpoints rate limited), billing.<domain> → Lago's front end."""
	domain = settings.domain.lower()
	press_host = f"cloud.{domain}"
	common = {"entryPoints": [settings.websecure_entrypoint], "service": "press"}
	services["press"] = _load_balancer(settings.press_url, pass_host=True)
	routers["press"] = {
		**common,
		"rule": f"Host(`{press_host}`)",
		"middlewares": ["security-headers"],
		"tls": tls_by_host(press_host),
	}
	if settings.rate_limited_paths:
		paths = " || ".join(f"PathPrefix(`{path}`)" for path in settings.rate_limited_paths)
		routers["press-public-endpoints"] = {
			**common,
			"rule": f"Host(`{press_host}`) && ({paths})",
			"middlewares": ["security-headers", "public-endpoints-rate-limit"],
			"tls": tls_by_host(press_host),
		}
	if settings.lago_front_url:
		billing_host = f"billing.{domain}"
		services["lago-front"] = _load_balancer(settings.lago_front_url, pass_host=True)
		routers["lago-front"] = {
			"entryPoints": [settings.websecure_entrypoint],
			"service": "lago-front",
			"rule": f"Host(`{billing_host}`)",
			"middlewares": ["security-headers"],
			"tls": tls_by_host(billing_host),
		}


def _middlewares(settings: RoutingSettings) -> dict:
	middlewares = {
		"redirect-to-https": {"redirectScheme": {"scheme": "https", "permanent": True}},
		"security-headers": {
			"headers": {
				"stsSeconds": settings.hsts_seconds,
				"stsIncludeSubdomains": True,
				"contentTypeNosniff": True,
				# Frappe's print preview frames its own pages, so SAMEORIGIN rather than DENY.
				"customFrameOptionsValue": "SAMEORIGIN",
				"referrerPolicy": "strict-origin-when-cross-origin",
			}
		},
		"public-endpoints-rate-limit": {
			"rateLimit": {
				"average": settings.rate_limit_average,
				"period": settings.rate_limit_period,
				"burst": settings.rate_limit_burst,
			}
		},
	}
	for page, path in STATUS_PAGE_PATHS.items():
		middlewares[f"{page}-page"] = {
			"errors": {"status": ["503"], "service": "status-pages", "query": path}
		}
	return middlewares


class _TLSChooser:
	"""Hosts one label under a root domain share its DNS-challenge wildcard; others use HTTP-01."""

	def __init__(self, settings: RoutingSettings):
		self.wildcard_tls = {
			domain: (
				{
					"certResolver": settings.dns_cert_resolver,
					"domains": [{"main": domain, "sans": [f"*.{domain}"]}],
				}
				if settings.dns_cert_resolver
				else {}
			)
			for domain in settings.wildcard_domains
		}
		self.custom_tls = {"certResolver": settings.http_cert_resolver} if settings.http_cert_resolver else {}

	def __call__(self, host: str) -> dict:
		parent = host.partition(".")[2]
		return self.wildcard_tls.get(parent, self.custom_tls)


def _load_balancer(url: str, *, pass_host: bool) -> dict:
	return {"loadBalancer": {"servers": [{"url": url.rstrip("/")}], "passHostHeader": pass_host}}


def _upstream_url(upstream: str) -> str:
	return f"http://{upstream}" if ":" in upstream else f"http://{upstream}:80"


def _safe_name(upstream: str) -> str:
	"""A Traefik object name for an UPSTREAM; `_` and `__` never occur in one, so no two names collide."""
	return upstream.replace(".", "_").replace(":", "__")


def _sorted(objects: dict) -> dict:
	return {name: objects[name] for name in sorted(objects)}


def token_matches(
	expected: str, *, header_token: str | None = None, authorization: str | None = None
) -> bool:
	"""Whether Traefik sent the configured token, as a header or as the password of Basic auth.

	Constant-time; an empty expected token refuses everything rather than opening the endpoint.
	"""
	if not expected:
		return False
	candidates = [header_token or ""]
	if authorization and authorization[:6].lower() == "basic ":
		try:
			decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode()
		except (binascii.Error, UnicodeDecodeError):
			decoded = ""
		candidates.append(decoded.partition(":")[2])
	matched = False
	for candidate in candidates:
		matched |= hmac.compare_digest(candidate.encode(), expected.encode())
	return matched


@dataclass(frozen=True)
class ConfigResponse:
	status: int
	body: bytes
	headers: dict[str, str]


def config_response(config: Mapping, if_none_match: str | None = None) -> ConfigResponse:
	"""200 with the configuration and its ETag, or 304 when Traefik already has this version."""
	body = serialize_config(config)
	etag = _etag_of(body)
	headers = {"ETag": etag, "Cache-Control": "no-cache"}
	offered = {tag.strip().removeprefix("W/") for tag in (if_none_match or "").split(",")}
	if etag in offered or "*" in offered:
		return ConfigResponse(304, b"", headers)
	return ConfigResponse(200, body, {**headers, "Content-Type": "application/json"})
