"""Benchmark: our encrypted streaming backup upload against boto3's own `upload_file`, same server, same run.

Uploads a 1 GiB file to a moto S3 server (its own process, standing in for MinIO) with raw
`upload_file` (the baseline, TransferConfig defaults) and with `s3.upload_encrypted`, in pairs, the
order alternating from pair to pair, each upload in a fresh subprocess so its peak RSS is its own.
Prints the median of the pairs' throughput ratios (target ≥ 0.9) and the worst peak RSS above the
process baseline (target ≤ 64 MiB). `--busy-core` keeps a CPU-bound process running throughout, as
on a host where something else is working. Run:
`.venv/bin/python bench/backup_upload.py [size in MiB] [--pairs N] [--busy-core]`.
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

ACCESS_KEY, SECRET_KEY, BUCKET = "bench-access-key", "bench-secret-key", "backups"
ENCRYPTION_KEY = "bench-encryption-key-0123456789abcdef"


def peak_rss_bytes() -> int:
	return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB


def measure(method: str, endpoint: str, path: str) -> None:
	"""Child process: import everything, note the baseline, upload once, report time and peak RSS growth."""
	from boto3.s3.transfer import TransferConfig

	from press_selfhost.backups import s3
	from press_selfhost.backups.encryption import BackupKeyring

	client = s3.storage_client(s3.StorageSettings(endpoint, ACCESS_KEY, SECRET_KEY))
	keyring = BackupKeyring.from_secrets(ENCRYPTION_KEY)
	client.head_bucket(Bucket=BUCKET)  # warm the connection and the client's lazy state
	baseline = peak_rss_bytes()
	started = time.perf_counter()
	if method == "raw":
		client.upload_file(path, BUCKET, "raw.bin", Config=TransferConfig())
	else:
		with open(path, "rb") as source:
			s3.upload_encrypted(client, BUCKET, "encrypted.bin.enc", source, keyring, "bench.example.com")
	elapsed = time.perf_counter() - started
	print(json.dumps({"seconds": elapsed, "rss_growth": peak_rss_bytes() - baseline}))


def run_child(method: str, endpoint: str, path: str) -> dict:
	output = subprocess.run(
		[sys.executable, __file__, "--measure", method, endpoint, path],
		check=True,
		capture_output=True,
		text=True,
	).stdout
	return json.loads(output.strip().splitlines()[-1])


def start_server() -> tuple[subprocess.Popen, str]:
	"""A fresh moto server process: moto slows down as it accumulates state, so each run gets its own."""
	from tests.support.processes import free_port, port_accepts, wait_until

	port = free_port()
	server = subprocess.Popen(
		[sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
		stdout=subprocess.DEVNULL,
		stderr=subprocess.DEVNULL,
	)
	wait_until(lambda: port_accepts(port), what="moto server")
	endpoint = f"http://127.0.0.1:{port}"
	from press_selfhost.backups import s3

	s3.storage_client(s3.StorageSettings(endpoint, ACCESS_KEY, SECRET_KEY)).create_bucket(Bucket=BUCKET)
	return server, endpoint


def busy_core() -> subprocess.Popen:
	"""A process that keeps one core fully busy until terminated."""
	return subprocess.Popen([sys.executable, "-c", "while True: pass"])


def upload_once(method: str, path: str) -> dict:
	server, endpoint = start_server()
	try:
		return run_child(method, endpoint, path)
	finally:
		server.terminate()
		server.wait(10)


def main(size_mib: int, pairs: int, keep_a_core_busy: bool) -> None:
	raw_runs: list[dict] = []
	encrypted_runs: list[dict] = []
	with tempfile.TemporaryDirectory() as workdir:
		path = os.path.join(workdir, "backup.bin")
		block = os.urandom(1024 * 1024)
		with open(path, "wb") as output:
			for index in range(size_mib):
				output.write(index.to_bytes(8, "big") + block[8:])
		busy = busy_core() if keep_a_core_busy else None
		try:
			for pair in range(pairs):  # alternating order, so drift within a pair hits both alike
				order = ("raw", "encrypted") if pair % 2 == 0 else ("encrypted", "raw")
				for method in order:
					result = upload_once(method, path)
					(raw_runs if method == "raw" else encrypted_runs).append(result)
		finally:
			if busy is not None:
				busy.terminate()
				busy.wait(10)

	size = size_mib * 1024 * 1024
	mib = 1024 * 1024
	ratios = [
		raw["seconds"] / encrypted["seconds"] for raw, encrypted in zip(raw_runs, encrypted_runs, strict=True)
	]
	worst_growth = max(encrypted["rss_growth"] for encrypted in encrypted_runs)
	load = "one core kept busy by a CPU-bound process" if keep_a_core_busy else "no added load"
	print(f"file size: {size_mib} MiB, a fresh moto S3 server process per run, {pairs} pairs, {load}")
	for label, runs in (
		("raw boto3 upload_file:", raw_runs),
		("encrypted streaming upload:", encrypted_runs),
	):
		seconds = statistics.median(run["seconds"] for run in runs)
		growth = max(run["rss_growth"] for run in runs)
		print(f"{label:28s} {size / seconds / mib:7.1f} MiB/s (median), peak RSS +{growth / mib:.1f} MiB")
	print(f"ratio per pair: {', '.join(f'{ratio:.2f}' for ratio in ratios)}")
	print(f"throughput ratio (encrypted / raw), median: {statistics.median(ratios):.2f}  (target >= 0.9)")
	print(f"encrypted peak RSS above baseline: {worst_growth / mib:.1f} MiB  (target <= 64 MiB)")


if __name__ == "__main__":
	if len(sys.argv) > 1 and sys.argv[1] == "--measure":
		measure(*sys.argv[2:5])
	else:
		parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
		parser.add_argument("size_mib", nargs="?", type=int, default=1024, help="file size in MiB")
		parser.add_argument("--pairs", type=int, default=3, help="raw/encrypted pairs to run")
		parser.add_argument("--busy-core", action="store_true", help="keep one core busy during the runs")
		arguments = parser.parse_args()
		main(arguments.size_mib, arguments.pairs, arguments.busy_core)
