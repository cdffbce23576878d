"""Helpers for starting real servers on 127.0.0.1 in tests: free ports, readiness waits, binaries."""

import shutil
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path


class MissingBinaryError(RuntimeError):
	"""A server the tests need is not installed; the message says how to install it."""


def free_port() -> int:
	with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
		probe.bind(("127.0.0.1", 0))
		return probe.getsockname()[1]


def require_binary(name: str, install_hint: str, extra_dirs: tuple[str, ...] = ()) -> str:
	"""The path of `name`; Debian puts server binaries in sbin, which is not always on PATH."""
	search_path = ":".join((*extra_dirs, "/usr/local/sbin", "/usr/sbin", "/sbin"))
	found = shutil.which(name) or shutil.which(name, path=search_path)
	if not found:
		raise MissingBinaryError(f"'{name}' is not installed: {install_hint}")
	return found


def wait_until(
	ready: Callable[[], bool],
	*,
	what: str,
	timeout: float = 30.0,
	process: subprocess.Popen | None = None,
	log: Path | None = None,
) -> None:
	"""Poll `ready` until it holds; fail with the server's log if the process died or time ran out."""
	deadline = time.monotonic() + timeout
	last_error: Exception | None = None
	while time.monotonic() < deadline:
		if process is not None and process.poll() is not None:
			raise RuntimeError(
				f"{what} exited with code {process.returncode} before it was ready.{_tail(log)}"
			)
		try:
			if ready():
				return
		except Exception as error:  # not up yet: connection refused, handshake cut short
			last_error = error
		time.sleep(0.05)
	raise TimeoutError(
		f"{what} was not ready after {timeout:.0f} s (last error: {last_error!r}).{_tail(log)}"
	)


def port_accepts(port: int) -> bool:
	with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
		probe.settimeout(0.2)
		return probe.connect_ex(("127.0.0.1", port)) == 0


def stop_process(process: subprocess.Popen, timeout: float = 10.0) -> None:
	if process.poll() is None:
		process.terminate()
		try:
			process.wait(timeout)
		except subprocess.TimeoutExpired:
			process.kill()
			process.wait(timeout)


def _tail(log: Path | None, lines: int = 20) -> str:
	if log is None or not log.exists():
		return ""
	return (
		"\n--- last lines of "
		+ str(log)
		+ " ---\n"
		+ "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
	)
