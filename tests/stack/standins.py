"""The Lago and Postal stand-ins as one long-running process, for the stack's test override.

Lago and Postal cannot be built on a machine without their registries, so tests/stack/compose.override.yaml
runs this in a container that carries the names `lago-api` and `postal-web` on the stack's networks:
Press and Traefik reach it exactly as they reach the real services (Lago's API on :3000, Postal's
web and API on :5000). The API keys come from the stack's environment, as the real services' do.
"""

import os
import signal
import threading

from tests.standins.lago import LagoStandIn
from tests.standins.postal import PostalStandIn

LAGO_PORT = 3000
POSTAL_PORT = 5000


def main() -> None:
	# Every address of the container: it runs only there, on the stack's internal networks.
	lago = LagoStandIn(api_key=os.environ["LAGO_API_KEY"]).start("0.0.0.0", LAGO_PORT)
	postal = PostalStandIn(server_api_key=os.environ.get("POSTAL_API_KEY", "postal-standin-api-key"))
	postal.start("0.0.0.0", POSTAL_PORT)
	print(f"lago stand-in on :{lago.port}, postal stand-in on :{postal.port}", flush=True)
	stopped = threading.Event()
	signal.signal(signal.SIGTERM, lambda *_: stopped.set())
	stopped.wait()
	lago.stop()
	postal.stop()


if __name__ == "__main__":
	main()
