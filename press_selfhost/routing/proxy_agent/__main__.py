"""`python -m press_selfhost.routing.proxy_agent hash-password` (reads the password on stdin) or `serve`.

`serve` runs the app on wsgiref, enough for one Press polling every few seconds and for tests;
gunicorn is the choice when more is needed.
"""

import argparse
import sys
from wsgiref.simple_server import WSGIRequestHandler, make_server

from press_selfhost.routing.proxy_agent.app import ProxyAgent, ProxyAgentConfig
from press_selfhost.routing.proxy_agent.password import hash_password


class _QuietHandler(WSGIRequestHandler):
	def log_message(self, format, *args):
		sys.stderr.write("proxy agent: " + format % args + "\n")


def main(argv: list[str] | None = None) -> int:
	parser = argparse.ArgumentParser(prog="python -m press_selfhost.routing.proxy_agent")
	commands = parser.add_subparsers(dest="command", required=True)
	commands.add_parser("hash-password", help="print the access_token for the password read on stdin")
	serve = commands.add_parser("serve", help="serve the proxy agent")
	serve.add_argument("--config", required=True)
	serve.add_argument("--host", default="127.0.0.1")
	serve.add_argument("--port", type=int, default=25052)
	arguments = parser.parse_args(argv)
	if arguments.command == "hash-password":
		print(hash_password(sys.stdin.readline().rstrip("\n")))
		return 0
	app = ProxyAgent(ProxyAgentConfig.from_file(arguments.config))
	with make_server(arguments.host, arguments.port, app, handler_class=_QuietHandler) as server:
		print(f"proxy agent for {app.config.name} on {arguments.host}:{arguments.port}", flush=True)
		server.serve_forever()
	return 0


if __name__ == "__main__":
	sys.exit(main())
