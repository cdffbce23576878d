"""How long Traefik's configuration takes to build (and serialise, as the endpoint does) per fleet size.

Prints t(100), t(1,000), t(10,000) and the growth ratio t(10k)/t(1k): about 10 is linear, the
target is at most 12, and 10,000 sites should take at most 100 ms.
"""

import time

from press_selfhost.routing.traefik import (
	Route,
	RoutingSettings,
	SiteStatus,
	build_dynamic_config,
	config_response,
)

SETTINGS = RoutingSettings(
	domain="example.com",
	press_url="http://press:8000",
	lago_front_url="http://lago-front:80",
	status_page_url="http://press:8000",
	dns_cert_resolver="letsencrypt-dns",
	http_cert_resolver="letsencrypt-http",
)
STATUSES = [SiteStatus.ACTIVE] * 8 + [SiteStatus.SUSPENDED, SiteStatus.ARCHIVED]


def fleet(sites: int) -> list[Route]:
	"""`sites` sites on 20 app servers of 50 benches each, one in five with a custom domain and a www
	domain redirected to it (Press's redirect to primary), a mix of statuses."""
	routes = []
	for number in range(sites):
		name = f"site{number}.example.com"
		server, offset = f"10.0.{number % 20}.5", number % 50
		upstream, socketio = f"{server}:{18000 + offset}", f"{server}:{19000 + offset}"
		status = STATUSES[number % len(STATUSES)]
		routes.append(Route(name, name, upstream, status, socketio))
		if number % 5 == 0:
			primary = f"erp.customer{number}.org"
			routes.append(Route(primary, name, upstream, status, socketio))
			routes.append(Route(f"www.customer{number}.org", name, upstream, status, socketio, primary))
	return routes


def build_once(routes: list[Route]) -> float:
	started = time.perf_counter()
	config_response(build_dynamic_config(routes, SETTINGS))
	return time.perf_counter() - started


def main() -> None:
	"""Sizes are measured in turns and the fastest run of each kept, so a busy machine (other
	processes on a 2-core box) disturbs every size alike instead of skewing the ratio."""
	fleets = {size: fleet(size) for size in (100, 1_000, 10_000)}
	best = dict.fromkeys(fleets, float("inf"))
	deadline = time.monotonic() + 20
	rounds = 0
	while rounds < 15 or (rounds < 60 and time.monotonic() < deadline):
		for size, routes in fleets.items():
			for _ in range(max(1, 1_000 // size)):
				best[size] = min(best[size], build_once(routes))
		rounds += 1
	for size, seconds in best.items():
		print(f"{size:>6} sites: {seconds * 1000:8.2f} ms  ({seconds / best[100]:6.1f} x t(100))")
	growth = best[10_000] / best[1_000]
	print(f"growth t(10k)/t(1k): {growth:.2f} (target <= 12) {'OK' if growth <= 12 else 'OVER'}")
	print(
		f"10,000 sites: {best[10_000] * 1000:.1f} ms (target <= 100 ms) {'OK' if best[10_000] <= 0.1 else 'OVER'}"
	)
	print(f"({rounds} rounds; times include serialising the JSON and its ETag, as the endpoint does)")


if __name__ == "__main__":
	main()
