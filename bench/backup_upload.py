"""Benchmark: our encrypted streaming backup upload against boto3's own `upload_file`, same server, same run.

Uploads a 1 GiB file to a moto S3 server (its own process, standing in for MinIO) once with raw
`upload_file` (the baseline) and once with `s3.upload_encrypted`, each in a fresh subprocess so
its peak RSS is its own. Prints the throughput ratio (target ≥ 0.9) and the peak RSS above the
process baseline (target ≤ 64 MiB). Run: `.venv/bin/python bench/backup_upload.py [size in MiB]`.
"""

import json
import os
import resource
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


def main(size_mib: int) -> None:
	results: dict[str, dict] = {}
	with tempfile.TemporaryDirectory() as workdir:
		path = os.path.join(workdir, "backup.bin")
		block = os.urandom(1024 * 1024)
		with open(path, "wb") as output:
			for index in range(size_mib):
				output.write(index.to_bytes(8, "big") + block[8:])
		for method in ("raw", "encrypted", "encrypted", "raw"):  # interleaved, so drift hits both alike
			server, endpoint = start_server()
			try:
				result = run_child(method, endpoint, path)
			finally:
				server.terminate()
				server.wait(10)
			best = results.get(method)
			results[method] = result if best is None or result["seconds"] < best["seconds"] else best

	size = size_mib * 1024 * 1024
	mib = 1024 * 1024
	raw, encrypted = results["raw"], results["encrypted"]
	ratio = raw["seconds"] / encrypted["seconds"]
	print(f"file size: {size_mib} MiB, a fresh moto S3 server process per run, best of 2 runs each")
	print(
		f"raw boto3 upload_file:       {size / raw['seconds'] / mib:7.1f} MiB/s, "
		f"peak RSS +{raw['rss_growth'] / mib:.1f} MiB"
	)
	print(
		f"encrypted streaming upload:  {size / encrypted['seconds'] / mib:7.1f} MiB/s, "
		f"peak RSS +{encrypted['rss_growth'] / mib:.1f} MiB"
	)
	print(f"throughput ratio (encrypted / raw): {ratio:.2f}  (target >= 0.9)")
	print(f"encrypted peak RSS above baseline: {encrypted['rss_growth'] / mib:.1f} MiB  (target <= 64 MiB)")


if __name__ == "__main__":
	if len(sys.argv) > 1 and sys.argv[1] == "--measure":
		measure(*sys.argv[2:5])
	else:
		main(int(sys.argv[1]) if len(sys.argv) > 1 else 1024)
