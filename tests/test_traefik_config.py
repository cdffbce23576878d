"""The Traefik dynamic configuration built from Press's sites: every status, domains, TLS, ETag."""

import base64
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import press_selfhost
from press_selfhost.routing.traefik import (
	STATUS_PAGE_PATHS,
	Route,
	RoutingSettings,
	SiteStatus,
	build_dynamic_config,
	config_etag,
	config_response,
	press_routes,
	serialize_config,
	token_matches,
)

SETTINGS = RoutingSettings(
	domain="example.com",
	press_url="http://press:8000",
	lago_front_url="http://lago-front:80",
	status_page_url="http://press:8000/",
	dns_cert_resolver="letsencrypt-dns",
	http_cert_resolver="letsencrypt-http",
)


def routers(routes, settings=SETTINGS):
	return build_dynamic_config(routes, settings)["http"]["routers"]


def router_for(host, routes, settings=SETTINGS):
	matches = [r for r in routers(routes, settings).values() if r["rule"] == f"Host(`{host}`)"]
	assert len(matches) <= 1
	return matches[0] if matches else None


def test_active_site_goes_to_its_app_server_on_port_80_with_the_host_kept():
	config = build_dynamic_config(
		[Route("acme.example.com", "acme.example.com", "10.0.0.5", "Active")], SETTINGS
	)
	router = config["http"]["routers"]["site-acme_example_com"]
	assert router["rule"] == "Host(`acme.example.com`)"
	assert router["entryPoints"] == ["websecure"]
	assert router["middlewares"] == ["security-headers"]
	service = config["http"]["services"][router["service"]]
	assert service == {"loadBalancer": {"servers": [{"url": "http://10.0.0.5:80"}], "passHostHeader": True}}


def test_sites_on_one_app_server_share_one_service():
	config = build_dynamic_config(
		[
			Route("a.example.com", "a.example.com", "10.0.0.5", "Active"),
			Route("b.example.com", "b.example.com", "10.0.0.5", "Active"),
			Route("c.example.com", "c.example.com", "10.0.0.6:8080", "Active"),
		],
		SETTINGS,
	)
	upstreams = sorted(name for name in config["http"]["services"] if name.startswith("upstream-"))
	assert upstreams == ["upstream-10_0_0_5", "upstream-10_0_0_6__8080"]
	assert config["http"]["services"]["upstream-10_0_0_6__8080"]["loadBalancer"]["servers"] == [
		{"url": "http://10.0.0.6:8080"}
	]


@pytest.mark.parametrize(
	("status", "page"),
	[
		("Suspended", "suspended"),
		("Inactive", "unavailable"),
		("Broken", "unavailable"),
		("Pending", "unavailable"),
		("Installing", "unavailable"),
	],
)
def test_sites_that_cannot_serve_get_a_status_page(status, page):
	config = build_dynamic_config(
		[Route("acme.example.com", "acme.example.com", "10.0.0.5", status)], SETTINGS
	)
	router = config["http"]["routers"]["site-acme_example_com"]
	assert router["service"] == "no-server"
	assert config["http"]["services"]["no-server"] == {"loadBalancer": {"servers": []}}
	assert router["middlewares"] == ["security-headers", f"{page}-page"]
	assert config["http"]["middlewares"][f"{page}-page"] == {
		"errors": {"status": ["503"], "service": "status-pages", "query": STATUS_PAGE_PATHS[page]}
	}
	status_service = config["http"]["services"]["status-pages"]["loadBalancer"]
	assert status_service == {"servers": [{"url": "http://press:8000"}], "passHostHeader": False}
	assert not any(name.startswith("upstream-") for name in config["http"]["services"])


@pytest.mark.parametrize("status", ["Updating", "Recovering"])
def test_sites_being_updated_stay_on_their_bench(status):
	router = router_for(
		"acme.example.com", [Route("acme.example.com", "acme.example.com", "10.0.0.5", status)]
	)
	assert router["service"] == "upstream-10_0_0_5"


def test_archived_sites_and_their_domains_disappear():
	routes = [
		Route("gone.example.com", "gone.example.com", "10.0.0.5", "Archived"),
		Route("shop.gone.org", "gone.example.com", "10.0.0.5", "Archived"),
	]
	site_routers = [name for name in routers(routes) if name.startswith("site-")]
	assert site_routers == []


def test_every_status_page_shipped_exists():
	public = Path(press_selfhost.__file__).parent / "public"
	for path in STATUS_PAGE_PATHS.values():
		page = public / path.removeprefix("/assets/press_selfhost/")
		assert "<html" in page.read_text()


def test_unknown_status_and_unsafe_hosts_get_no_route():
	routes = [
		Route("new.example.com", "new.example.com", "10.0.0.5", "Migrating"),
		Route("evil`) || Host(`x.example.com", "s", "10.0.0.5", "Active"),
		Route("-bad.example.com", "s", "10.0.0.5", "Active"),
		Route("ok.example.com", "ok.example.com", "10.0.0.5/evil", "Active"),
		Route("ok2.example.com", "ok2.example.com", "10.0.0.5:80:80", "Active"),
		Route("ok3.example.com", "ok3.example.com", "", "Active"),
	]
	assert [name for name in routers(routes) if name.startswith("site-")] == []


def test_platform_hosts_press_lago_and_rate_limited_public_endpoints():
	config = build_dynamic_config([], SETTINGS)
	http = config["http"]
	assert http["routers"]["press"]["rule"] == "Host(`cloud.example.com`)"
	assert http["services"]["press"]["loadBalancer"]["servers"] == [{"url": "http://press:8000"}]
	assert http["routers"]["lago-front"]["rule"] == "Host(`billing.example.com`)"
	assert http["services"]["lago-front"]["loadBalancer"]["servers"] == [{"url": "http://lago-front:80"}]
	public = http["routers"]["press-public-endpoints"]
	assert public["rule"].startswith(
		"Host(`cloud.example.com`) && (PathPrefix(`/api/method/press_selfhost.api.lago.`)"
	)
	assert "PathPrefix(`/api/method/press.api.account.signup`)" in public["rule"]
	assert public["middlewares"] == ["security-headers", "public-endpoints-rate-limit"]
	assert http["middlewares"]["public-endpoints-rate-limit"] == {
		"rateLimit": {"average": 60, "period": "1m", "burst": 30}
	}


def test_no_lago_front_means_no_billing_route():
	settings = RoutingSettings(
		domain="example.com", press_url="http://press:8000", status_page_url="http://press:8000"
	)
	assert "lago-front" not in routers([], settings)


def test_http_redirects_to_https_and_responses_carry_security_headers():
	http = build_dynamic_config([], SETTINGS)["http"]
	redirect = http["routers"]["http-to-https"]
	assert redirect == {
		"rule": "PathPrefix(`/`)",
		"entryPoints": ["web"],
		"middlewares": ["redirect-to-https"],
		"service": "noop@internal",
		"priority": 1,
	}
	assert http["middlewares"]["redirect-to-https"] == {
		"redirectScheme": {"scheme": "https", "permanent": True}
	}
	headers = http["middlewares"]["security-headers"]["headers"]
	assert headers["stsSeconds"] == 31536000
	assert headers["contentTypeNosniff"] is True
	assert headers["customFrameOptionsValue"] == "SAMEORIGIN"


def test_wildcard_hosts_use_the_dns_resolver_and_custom_domains_the_http_resolver():
	settings = RoutingSettings(
		domain="example.com",
		root_domains=("apps.example.org",),
		press_url="http://press:8000",
		status_page_url="http://press:8000",
		dns_cert_resolver="dns",
		http_cert_resolver="http",
	)
	routes = [
		Route("acme.example.com", "acme.example.com", "10.0.0.5", "Active"),
		Route("beta.apps.example.org", "beta.apps.example.org", "10.0.0.5", "Active"),
		Route("erp.acme.com", "acme.example.com", "10.0.0.5", "Active"),
		Route("deep.acme.example.com", "acme.example.com", "10.0.0.5", "Suspended"),
	]
	assert router_for("acme.example.com", routes, settings)["tls"] == {
		"certResolver": "dns",
		"domains": [{"main": "example.com", "sans": ["*.example.com"]}],
	}
	assert router_for("beta.apps.example.org", routes, settings)["tls"] == {
		"certResolver": "dns",
		"domains": [{"main": "apps.example.org", "sans": ["*.apps.example.org"]}],
	}
	# a wildcard covers one label only, so a deeper host is a custom domain
	assert router_for("erp.acme.com", routes, settings)["tls"] == {"certResolver": "http"}
	assert router_for("deep.acme.example.com", routes, settings)["tls"] == {"certResolver": "http"}
	assert router_for("cloud.example.com", routes, settings)["tls"]["certResolver"] == "dns"


def test_without_resolvers_routers_use_the_default_certificate():
	settings = RoutingSettings(
		domain="localhost", press_url="http://press:8000", status_page_url="http://p:1"
	)
	routes = [
		Route("a.localhost", "a.localhost", "10.0.0.5", "Active"),
		Route("x.org", "a.localhost", "10.0.0.5", "Active"),
	]
	assert all(router.get("tls", {}) == {} for router in routers(routes, settings).values())


def test_custom_domains_follow_their_sites_status():
	routes = press_routes(
		sites=[
			{"name": "acme.example.com", "status": "Suspended", "server": "f1.example.com", "bench": "b1"},
			{"name": "beta.example.com", "status": "Active", "server": "f1.example.com", "bench": "b2"},
			{
				"name": "old.example.com.archived",
				"status": "Archived",
				"server": "f1.example.com",
				"bench": "b1",
			},
		],
		site_domains=[
			{"domain": "acme.example.com", "site": "acme.example.com"},
			{"domain": "erp.acme.com", "site": "acme.example.com"},
			{"domain": "shop.beta.org", "site": "beta.example.com"},
			{"domain": "old.org", "site": "old.example.com.archived"},
			{"domain": "orphan.org", "site": "missing.example.com"},
		],
		servers=[
			{"name": "f1.example.com", "private_ip": "10.0.0.5", "ip": "203.0.113.5", "is_self_hosted": 0}
		],
		benches=[{"name": "b1", "port_offset": 0}, {"name": "b2", "port_offset": 3}],
	)
	on_b1 = ("10.0.0.5:18000", "10.0.0.5:19000")
	assert sorted(routes, key=lambda r: r.host) == [
		Route("acme.example.com", "acme.example.com", on_b1[0], "Suspended", on_b1[1]),
		Route("beta.example.com", "beta.example.com", "10.0.0.5:18003", "Active", "10.0.0.5:19003"),
		Route("erp.acme.com", "acme.example.com", on_b1[0], "Suspended", on_b1[1]),
		Route("old.example.com.archived", "old.example.com.archived", on_b1[0], "Archived", on_b1[1]),
		Route("old.org", "old.example.com.archived", on_b1[0], "Archived", on_b1[1]),
		Route("shop.beta.org", "beta.example.com", "10.0.0.5:18003", "Active", "10.0.0.5:19003"),
	]
	built = routers(routes)
	assert built["site-erp_acme_com"]["middlewares"][-1] == "suspended-page"
	assert built["site-shop_beta_org"]["service"] == "upstream-10_0_0_5__18003"
	assert built["socketio-10_0_0_5__19003"]["service"] == "upstream-10_0_0_5__19003"
	assert "site-old_org" not in built


def test_self_hosted_servers_are_reached_on_their_public_ip_and_sites_without_server_or_bench_skipped():
	routes = press_routes(
		sites=[
			{"name": "a.example.com", "status": "Active", "server": "f2.example.com", "bench": "b1"},
			{"name": "b.example.com", "status": "Active", "server": None, "bench": "b1"},
			{"name": "c.example.com", "status": "Active", "server": "f2.example.com", "bench": None},
			{"name": "d.example.com", "status": "Active", "server": "f2.example.com", "bench": "b-unknown"},
			{"name": "e.example.com", "status": "Active", "server": "f2.example.com", "bench": "b-no-offset"},
		],
		site_domains=[],
		servers=[
			{"name": "f2.example.com", "private_ip": "10.0.0.7", "ip": "198.51.100.7", "is_self_hosted": 1}
		],
		benches=[{"name": "b1", "port_offset": 12}, {"name": "b-no-offset", "port_offset": None}],
	)
	assert routes == [
		Route("a.example.com", "a.example.com", "198.51.100.7:18012", "Active", "198.51.100.7:19012")
	]


def test_a_benchs_sites_get_their_socketio_path_on_the_benchs_socketio_port():
	"""Frappe's realtime client connects to /socket.io on the site's own host: the bench's port 9000."""
	config = build_dynamic_config(
		[
			Route("b.example.com", "b.example.com", "172.30.240.1:18000", "Active", "172.30.240.1:19000"),
			Route("shop.org", "b.example.com", "172.30.240.1:18000", "Active", "172.30.240.1:19000"),
			Route("a.example.com", "a.example.com", "172.30.240.1:18000", "Updating", "172.30.240.1:19000"),
			Route("c.example.com", "c.example.com", "172.30.240.1:18001", "Suspended", "172.30.240.1:19001"),
		],
		SETTINGS,
	)
	routers_by_name = config["http"]["routers"]
	socketio_routers = {
		name: router for name, router in routers_by_name.items() if name.startswith("socketio-")
	}
	# One router per bench; a suspended site has no live bench path at all: its page answers everywhere.
	assert list(socketio_routers) == ["socketio-172_30_240_1__19000"]
	socketio = socketio_routers["socketio-172_30_240_1__19000"]
	assert socketio["rule"] == (
		"PathPrefix(`/socket.io`) && (Host(`a.example.com`) || Host(`b.example.com`) || Host(`shop.org`))"
	)
	assert socketio["entryPoints"] == ["websecure"]
	assert config["http"]["services"][socketio["service"]]["loadBalancer"] == {
		"servers": [{"url": "http://172.30.240.1:19000"}],
		"passHostHeader": True,
	}
	# Longer than any site's Host rule, so Traefik's default priority sends /socket.io here.
	assert len(socketio["rule"]) > len(routers_by_name["site-shop_org"]["rule"])


def test_domains_marked_redirect_to_primary_redirect_to_the_sites_host_name():
	"""Press's Site Domain.redirect_to_primary, the site's own name included, to Site.host_name."""
	routes = press_routes(
		sites=[
			{
				"name": "acme.example.com",
				"status": "Active",
				"server": "f1.example.com",
				"bench": "b1",
				"host_name": "erp.acme.com",
			},
			{"name": "beta.example.com", "status": "Active", "server": "f1.example.com", "bench": "b1"},
		],
		site_domains=[
			{"domain": "acme.example.com", "site": "acme.example.com", "redirect_to_primary": 1},
			{"domain": "erp.acme.com", "site": "acme.example.com", "redirect_to_primary": 0},
			{"domain": "www.acme.com", "site": "acme.example.com", "redirect_to_primary": 1},
			{"domain": "shop.acme.com", "site": "acme.example.com", "redirect_to_primary": 0},
			# host_name unset means the site's name is primary; a primary never redirects to itself
			{"domain": "beta.example.com", "site": "beta.example.com", "redirect_to_primary": 1},
			{"domain": "www.beta.org", "site": "beta.example.com", "redirect_to_primary": 1},
		],
		servers=[{"name": "f1.example.com", "private_ip": "10.0.0.5", "ip": "", "is_self_hosted": 0}],
		benches=[{"name": "b1", "port_offset": 0}],
	)
	assert {route.host: route.redirect_to for route in routes} == {
		"acme.example.com": "erp.acme.com",
		"erp.acme.com": "",
		"www.acme.com": "erp.acme.com",
		"shop.acme.com": "",
		"beta.example.com": "",
		"www.beta.org": "beta.example.com",
	}
	config = build_dynamic_config(routes, SETTINGS)["http"]
	redirected = config["routers"]["site-www_acme_com"]
	assert redirected["service"] == "noop@internal"
	assert redirected["middlewares"] == ["security-headers", "redirect-to-primary-erp_acme_com"]
	assert redirected["tls"] == {"certResolver": "letsencrypt-http"}
	assert config["middlewares"]["redirect-to-primary-erp_acme_com"] == {
		"redirectRegex": {
			"regex": "^https?://[^/]+(.*)$",
			"replacement": "https://erp.acme.com${1}",
			"permanent": True,
		}
	}
	assert config["routers"]["site-acme_example_com"]["middlewares"][-1] == "redirect-to-primary-erp_acme_com"
	assert config["routers"]["site-erp_acme_com"]["service"] == "upstream-10_0_0_5__18000"
	# A redirected host sends nothing to the bench, /socket.io included.
	socketio_rule = config["routers"]["socketio-10_0_0_5__19000"]["rule"]
	assert "www.acme.com" not in socketio_rule and "erp.acme.com" in socketio_rule


@pytest.mark.parametrize("target", ["", "www.acme.com", "WWW.ACME.COM", "evil.com`) || Host(`x", "a/b"])
def test_a_redirect_to_itself_or_to_no_valid_host_is_ignored(target):
	config = build_dynamic_config(
		[Route("www.acme.com", "acme.example.com", "10.0.0.5", "Active", "", target)], SETTINGS
	)["http"]
	assert config["routers"]["site-www_acme_com"]["service"] == "upstream-10_0_0_5"
	assert not [name for name in config["middlewares"] if name.startswith("redirect-to-primary-")]


def test_a_host_claimed_twice_goes_to_the_live_site():
	routes = [
		Route("shop.org", "old.example.com", "10.0.0.5", "Suspended"),
		Route("SHOP.org", "new.example.com", "10.0.0.6", "Active"),
	]
	assert router_for("shop.org", routes)["service"] == "upstream-10_0_0_6"
	assert router_for("shop.org", list(reversed(routes)))["service"] == "upstream-10_0_0_6"


def test_output_is_sorted_and_serialises_to_the_same_bytes_whatever_the_input_order():
	routes = [Route(f"s{n}.example.com", f"s{n}.example.com", f"10.0.0.{n % 3}", "Active") for n in range(20)]
	forward = build_dynamic_config(routes, SETTINGS)
	backward = build_dynamic_config(list(reversed(routes)), SETTINGS)
	assert serialize_config(forward) == serialize_config(backward)
	assert list(forward["http"]["routers"]) == sorted(forward["http"]["routers"])
	assert list(forward["http"]["services"]) == sorted(forward["http"]["services"])
	assert json.loads(serialize_config(forward)) == forward


def test_etag_is_stable_and_known_across_runs():
	config = build_dynamic_config([Route("a.example.com", "a.example.com", "10.0.0.5", "Active")], SETTINGS)
	assert config_etag(config) == config_etag(json.loads(json.dumps(config)))
	assert config_etag(config).startswith('"') and config_etag(config).endswith('"')
	assert len(config_etag(config)) == 34


BASE_ROUTES = [
	Route("a.example.com", "a.example.com", "10.0.0.5", "Active"),
	Route("b.example.com", "b.example.com", "10.0.0.5", "Suspended"),
	Route("shop.org", "a.example.com", "10.0.0.5", "Active"),
]


@pytest.mark.parametrize(
	"changed",
	[
		[*BASE_ROUTES[:2], Route("shop.org", "a.example.com", "10.0.0.5", "Suspended")],
		[*BASE_ROUTES[:2], Route("shop.org", "a.example.com", "10.0.0.9", "Active")],
		[*BASE_ROUTES, Route("c.example.com", "c.example.com", "10.0.0.5", "Active")],
		BASE_ROUTES[1:],
		[*BASE_ROUTES[:2], Route("shop.org", "a.example.com", "10.0.0.5", "Archived")],
	],
	ids=["status", "upstream", "new-site", "removed-site", "archived-domain"],
)
def test_etag_changes_when_any_route_changes(changed):
	assert config_etag(build_dynamic_config(changed, SETTINGS)) != config_etag(
		build_dynamic_config(BASE_ROUTES, SETTINGS)
	)


status_strategy = st.sampled_from([status.value for status in SiteStatus])
label = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?", fullmatch=True)


@given(
	st.lists(
		st.tuples(st.lists(label, min_size=2, max_size=3), status_strategy, st.integers(1, 4)), max_size=15
	)
)
def test_every_router_points_at_a_defined_service_and_middlewares(records):
	routes = [
		Route(".".join(labels), ".".join(labels), f"10.0.0.{server}", status)
		for labels, status, server in records
	]
	http = build_dynamic_config(routes, SETTINGS)["http"]
	for router in http["routers"].values():
		assert router["service"] == "noop@internal" or router["service"] in http["services"]
		assert all(name in http["middlewares"] for name in router["middlewares"])
	live_hosts = {route.host for route in routes if route.status != "Archived"}
	site_rules = {r["rule"] for name, r in http["routers"].items() if name.startswith("site-")}
	assert site_rules == {f"Host(`{host}`)" for host in live_hosts}


def basic(user, password):
	return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.mark.parametrize(
	("header_token", "authorization", "accepted"),
	[
		("s3cret-token", None, True),
		(None, basic("traefik", "s3cret-token"), True),
		(None, "basic " + base64.b64encode(b"any:s3cret-token").decode(), True),
		(None, None, False),
		("wrong", None, False),
		("s3cret-token-and-more", None, False),
		(None, basic("s3cret-token", "wrong"), False),
		(None, "Basic !!!not-base64", False),
		(None, "Bearer s3cret-token", False),
	],
)
def test_token_from_header_or_basic_auth(header_token, authorization, accepted):
	assert token_matches("s3cret-token", header_token=header_token, authorization=authorization) is accepted


def test_an_unset_token_refuses_everyone():
	assert not token_matches("", header_token="")
	assert not token_matches("", authorization=basic("a", ""))


def test_config_response_answers_304_to_a_matching_if_none_match():
	config = build_dynamic_config(BASE_ROUTES, SETTINGS)
	first = config_response(config)
	assert first.status == 200
	assert json.loads(first.body) == config
	assert first.headers["ETag"] == config_etag(config)
	assert first.headers["Content-Type"] == "application/json"
	again = config_response(config, if_none_match=first.headers["ETag"])
	assert (again.status, again.body, again.headers["ETag"]) == (304, b"", first.headers["ETag"])
	assert config_response(config, if_none_match=f'"other", W/{first.headers["ETag"]}').status == 304
	assert config_response(config, if_none_match='"stale"').status == 200


@given(st.text(min_size=1, max_size=40), st.text(max_size=40))
def test_only_the_exact_token_matches(token, other):
	assert token_matches(token, header_token=token)
	assert token_matches(token, header_token=other) is (other == token)
