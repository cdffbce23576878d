"""Routing: Traefik reads every route from Press; the stock Agent runs the benches.

Framework-free, all of it: `traefik` (the dynamic configuration Traefik polls), `agent` (the stock
Agent's HTTP client), `bench_gateway` (a bench's ports behind one address), `proxy_agent` (the
service that answers Press's proxy jobs while Traefik routes), `checks` (the doctor's checks of these).
"""
