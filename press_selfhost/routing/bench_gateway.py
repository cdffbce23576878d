"""The bench gateway: makes the stock agent's bench containers reachable from Traefik's container.

The stock agent starts each bench with `docker run -p 127.0.0.1:<web_port>:8000
-p 127.0.0.1:<socketio_port>:9000 …` (agent/bench.py, `Bench.start`), so a bench answers only on
the host's loopback, which no container can reach. This process runs in the host's network
namespace (compose service `bench-gateway`) and, for every bench the agent has set up, listens on
`<gateway address>:<port>` (the host's address on the stack's `frontend` bridge) and copies bytes
to `127.0.0.1:<port>`. Traefik then reaches a site at `http://<gateway address>:<web_port>`, which
is what press_selfhost's routing builder sends it there. Plain TCP, so WebSockets pass unchanged.

Which ports: the agent writes each bench's `config.json` (web_port, socketio_port) under its
benches directory; the gateway rescans it, opens new listeners and closes those of removed benches.
Fixed ports (`--also-port`) are forwarded the same way in the other direction of use: benches reach
MariaDB at `<gateway address>:3306` (Press's Database Server private IP), which Traefik publishes
on the host's 127.0.0.1 only.
"""

import argparse
import asyncio
import contextlib
import json
import logging
from pathlib import Path

PORT_KEYS = ("web_port", "socketio_port")
# Press gives benches web ports from 18000 and socket.io ports from 19000 (Bench.port_offset);
# anything outside stays closed, so a stray config can never open, say, MariaDB's or SSH's port.
ALLOWED_PORTS = range(16000, 22000)
COPY_CHUNK = 64 * 1024

log = logging.getLogger("press_selfhost.routing.bench_gateway")


def bench_ports(benches_directory: Path) -> set[int]:
	"""The web and socket.io ports of every bench the agent has a config.json for."""
	ports = set()
	for config_file in sorted(Path(benches_directory).glob("*/config.json")):
		try:
			config = json.loads(config_file.read_text())
		except (OSError, ValueError):
			continue  # being written by the agent right now: the next scan reads it
		for key in PORT_KEYS:
			port = config.get(key) if isinstance(config, dict) else None
			if isinstance(port, int) and not isinstance(port, bool) and port in ALLOWED_PORTS:
				ports.add(port)
	return ports


class Gateway:
	"""One TCP listener per bench port on `listen_host`, each forwarding to `target_host` on the same port."""

	def __init__(self, listen_host: str, target_host: str = "127.0.0.1"):
		self.listen_host = listen_host
		self.target_host = target_host
		self.servers: dict[int, asyncio.Server] = {}

	@property
	def ports(self) -> set[int]:
		return set(self.servers)

	async def sync(self, wanted: set[int]) -> None:
		"""Listen on exactly `wanted`: open the new ports, close the gone ones (their open connections finish)."""
		for port in sorted(self.ports - wanted):
			self.servers.pop(port).close()
		for port in sorted(wanted - self.ports):
			try:
				self.servers[port] = await asyncio.start_server(
					lambda reader, writer, port=port: self._forward(reader, writer, port),
					self.listen_host,
					port,
				)
			except OSError as error:
				log.warning("cannot listen on %s:%s: %s", self.listen_host, port, error)

	async def close(self) -> None:
		await self.sync(set())

	async def _forward(self, client_reader, client_writer, port: int) -> None:
		try:
			bench_reader, bench_writer = await asyncio.open_connection(self.target_host, port)
		except OSError:
			client_writer.close()  # the bench is down: Traefik answers 502
			return
		await asyncio.gather(
			_copy(client_reader, bench_writer), _copy(bench_reader, client_writer), return_exceptions=True
		)
		bench_writer.close()
		client_writer.close()


async def _copy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
	try:
		while data := await reader.read(COPY_CHUNK):
			writer.write(data)
			await writer.drain()
		if writer.can_write_eof():
			writer.write_eof()  # half-close: the other direction may still be sending
	except (ConnectionError, OSError):
		writer.close()


async def serve(
	benches_directory: Path,
	listen_host: str,
	interval: float,
	heartbeat: Path | None = None,
	fixed_ports: frozenset[int] = frozenset(),
) -> None:
	"""Rescan the benches every `interval` seconds forever; touch `heartbeat` after each scan."""
	gateway = Gateway(listen_host)
	try:
		while True:
			await gateway.sync(bench_ports(benches_directory) | fixed_ports)
			if heartbeat:
				heartbeat.touch()
			await asyncio.sleep(interval)
	finally:
		await gateway.close()


def main(argv: list[str] | None = None) -> None:
	parser = argparse.ArgumentParser(
		prog="python -m press_selfhost.routing.bench_gateway", description=__doc__
	)
	parser.add_argument("--listen", required=True, help="the host address Traefik reaches the benches at")
	parser.add_argument("--benches", type=Path, default=Path("/home/frappe/benches"))
	parser.add_argument("--interval", type=float, default=5.0)
	parser.add_argument("--heartbeat", type=Path, help="file touched after each scan (for the healthcheck)")
	parser.add_argument(
		"--also-port", type=int, action="append", default=[], help="a port forwarded whatever the benches"
	)
	arguments = parser.parse_args(argv)
	logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
	with contextlib.suppress(KeyboardInterrupt):
		asyncio.run(
			serve(
				arguments.benches,
				arguments.listen,
				arguments.interval,
				arguments.heartbeat,
				frozenset(arguments.also_port),
			)
		)


if __name__ == "__main__":
	main()
