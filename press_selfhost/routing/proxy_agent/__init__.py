"""An Agent-compatible service for Press's Proxy Server, so proxy jobs succeed while Traefik routes.

Press sends its proxy jobs (Add Site to Upstream, Update Site Status, Add Host, Setup Redirects…) to
`https://<proxy server name>/agent/`. Traefik reads routes, statuses and redirects from Press's
records itself, so these jobs are recorded and reported as Success in the stock agent's schema.
Jobs with no meaning here (ProxySQL, auto-scale upstreams) succeed too, and say why in their output.
"""
