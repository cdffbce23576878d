"""A TCP proxy on 127.0.0.1 that can cut a server off mid-transfer: how tests stop MinIO mid-upload.

The server behind it keeps running (its state survives), while the client sees exactly what a dead
server or a pulled cable looks like: connections reset mid-request, then every new one closed.
"""

import contextlib
import socket
import threading

from tests.support.processes import free_port


class CuttableTCPProxy:
	def __init__(self, target_port: int):
		self.target_port = target_port
		self.port = free_port()
		self.url = f"http://127.0.0.1:{self.port}"
		self._listener = socket.create_server(("127.0.0.1", self.port))
		self._lock = threading.Lock()
		self._connections: list[socket.socket] = []
		self._forwarded_to_server = 0
		self._cut_after: int | None = None
		self.down = False
		threading.Thread(target=self._accept, daemon=True).start()

	def cut_after(self, client_bytes: int) -> None:
		"""Go down once `client_bytes` more bytes have gone from the client to the server."""
		with self._lock:
			self._cut_after = self._forwarded_to_server + client_bytes

	def restore(self) -> None:
		with self._lock:
			self.down = False
			self._cut_after = None

	def close(self) -> None:
		self._go_down()
		self._listener.close()

	def _go_down(self) -> None:
		with self._lock:
			self.down = True
			connections, self._connections = self._connections, []
		for connection in connections:
			with contextlib.suppress(OSError):
				connection.shutdown(socket.SHUT_RDWR)
			connection.close()

	def _accept(self) -> None:
		while True:
			try:
				client, _ = self._listener.accept()
			except OSError:
				return
			if self.down:
				client.close()
				continue
			server = socket.create_connection(("127.0.0.1", self.target_port))
			with self._lock:
				self._connections += [client, server]
			threading.Thread(target=self._pump, args=(client, server, True), daemon=True).start()
			threading.Thread(target=self._pump, args=(server, client, False), daemon=True).start()

	def _pump(self, source: socket.socket, sink: socket.socket, to_server: bool) -> None:
		try:
			while data := source.recv(65536):
				sink.sendall(data)
				if to_server:
					with self._lock:
						self._forwarded_to_server += len(data)
						cut = self._cut_after is not None and self._forwarded_to_server >= self._cut_after
					if cut:
						self._go_down()
						return
		except OSError:
			pass
		finally:
			for end in (source, sink):
				with contextlib.suppress(OSError):
					end.shutdown(socket.SHUT_RDWR)
