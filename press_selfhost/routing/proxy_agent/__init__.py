"""An Agent-compatible service for Press's Proxy Server, so proxy jobs succeed while Traefik routes.

Press sends its proxy jobs (Add Site to Upstream, Update Site Status, Add Host…) to
`https://<proxy server name>/agent/`. With Traefik reading routes from Press itself, there is
nothing to do for these jobs but record them and report Success in the stock agent's schema.
"""
