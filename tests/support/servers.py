"""Real servers on 127.0.0.1 for the tests: each starts on a free port and stops cleanly.

Redis and MariaDB are the real Debian binaries, each a private process with its own data. MinIO has
no binary in the registries we reach, so moto's S3 server stands in for it; the SMTP server is
aiosmtpd, a real SMTP implementation standing in for Postal's SMTP.
"""

import os
import subprocess
import threading
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from pathlib import Path

import pymysql
import redis

from tests.support.processes import free_port, port_accepts, require_binary, stop_process, wait_until


class RedisServer:
	"""A private redis-server, persistence off."""

	def __init__(self, workdir: Path):
		self.workdir = workdir
		self.port = free_port()
		self.url = f"redis://127.0.0.1:{self.port}/0"
		self.process: subprocess.Popen | None = None

	def start(self) -> "RedisServer":
		binary = require_binary("redis-server", "apt-get install redis-server")
		log = self.workdir / "redis.log"
		command = [
			binary,
			"--bind",
			"127.0.0.1",
			"--port",
			str(self.port),
			"--save",
			"",
			"--appendonly",
			"no",
		]
		command += ["--dir", str(self.workdir), "--logfile", str(log)]
		self.process = subprocess.Popen(command)
		wait_until(lambda: self.client().ping(), what="redis-server", process=self.process, log=log)
		return self

	def client(self) -> redis.Redis:
		return redis.Redis.from_url(self.url, socket_timeout=5)

	def stop(self) -> None:
		if self.process:
			stop_process(self.process)


class MariaDBServer:
	"""A private mariadbd with its own data directory, root without a password on 127.0.0.1 only.

	Its own process, not the machine's server, so tests never depend on how that one is set up
	and can stop it to test outages.
	"""

	def __init__(self, workdir: Path):
		self.workdir = workdir
		self.datadir = workdir / "data"
		self.port = free_port()
		self.process: subprocess.Popen | None = None

	def start(self) -> "MariaDBServer":
		install_db = require_binary("mariadb-install-db", "apt-get install mariadb-server")
		server = require_binary("mariadbd", "apt-get install mariadb-server")
		if not self.datadir.exists():
			subprocess.run(
				[
					install_db,
					"--no-defaults",
					f"--datadir={self.datadir}",
					"--auth-root-authentication-method=normal",
					"--skip-test-db",
					f"--user={_os_user()}",
				],
				check=True,
				capture_output=True,
			)
		log = self.workdir / "mariadb.err"
		self.process = subprocess.Popen(
			[
				server,
				"--no-defaults",
				f"--datadir={self.datadir}",
				f"--port={self.port}",
				"--bind-address=127.0.0.1",
				f"--socket={self.workdir / 'mariadb.sock'}",
				f"--pid-file={self.workdir / 'mariadb.pid'}",
				f"--log-error={log}",
				f"--user={_os_user()}",
				"--innodb-buffer-pool-size=64M",
				"--character-set-server=utf8mb4",
				"--collation-server=utf8mb4_unicode_ci",
				"--skip-name-resolve",
			],
		)
		wait_until(
			lambda: self.connect().close() is None, what="mariadbd", process=self.process, log=log, timeout=60
		)
		return self

	def connect(self, database: str | None = None, **options) -> pymysql.connections.Connection:
		return pymysql.connect(
			host="127.0.0.1",
			port=self.port,
			user="root",
			password="",
			database=database,
			charset="utf8mb4",
			connect_timeout=5,
			**options,
		)

	def create_database(self, name: str) -> str:
		with self.connect() as connection, connection.cursor() as cursor:
			cursor.execute(f"DROP DATABASE IF EXISTS `{name}`")
			cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
		return name

	def stop(self) -> None:
		if self.process:
			stop_process(self.process, timeout=30)


class S3StandIn:
	"""Stand-in for MinIO: moto's S3 server, which speaks the S3 REST protocol with SigV4."""

	access_key = "standin-access-key"
	secret_key = "standin-secret-key"
	region = "us-east-1"

	def __init__(self):
		self.port = free_port()
		self.endpoint_url = f"http://127.0.0.1:{self.port}"
		self._server = None

	def start(self) -> "S3StandIn":
		from moto.server import ThreadedMotoServer

		self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
		self._server.start()
		wait_until(lambda: port_accepts(self.port), what="S3 stand-in (moto)")
		return self

	def client(self):
		import boto3
		from botocore.config import Config

		return boto3.client(
			"s3",
			endpoint_url=self.endpoint_url,
			aws_access_key_id=self.access_key,
			aws_secret_access_key=self.secret_key,
			region_name=self.region,
			config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
		)

	def stop(self) -> None:
		if self._server:
			self._server.stop()


class RegistryServer:
	"""The Docker registry (Distribution 2.8, Debian's docker-registry), with htpasswd login, on 127.0.0.1.

	The same software as compose's `registry` service; images are pushed through its HTTP API.
	"""

	username = "press"
	password = "registry-test-password"

	def __init__(self, workdir: Path):
		self.workdir = workdir
		self.port = free_port()
		self.url = f"http://127.0.0.1:{self.port}"
		self.process: subprocess.Popen | None = None

	def start(self) -> "RegistryServer":
		import bcrypt

		binary = require_binary("docker-registry", "apt-get install docker-registry")
		htpasswd = self.workdir / "htpasswd"
		hashed = bcrypt.hashpw(self.password.encode(), bcrypt.gensalt(rounds=4)).decode()
		htpasswd.write_text(f"{self.username}:{hashed}\n")
		config = self.workdir / "config.yml"
		config.write_text(
			"version: 0.1\n"
			"log: {level: warn}\n"
			f"storage: {{filesystem: {{rootdirectory: {self.workdir / 'data'}}}}}\n"
			f"http: {{addr: '127.0.0.1:{self.port}'}}\n"
			f"auth: {{htpasswd: {{realm: test, path: {htpasswd}}}}}\n"
		)
		log = self.workdir / "registry.log"
		with log.open("wb") as output:
			self.process = subprocess.Popen([binary, "serve", str(config)], stdout=output, stderr=output)
		wait_until(lambda: port_accepts(self.port), what="docker-registry", process=self.process, log=log)
		return self

	def push_image(self, repository: str, tag: str) -> str:
		"""Push a one-layer image (a config blob and its manifest) as `docker push` does; its digest."""
		import hashlib
		import json

		import requests

		auth = (self.username, self.password)

		def blob(content: bytes) -> dict:
			digest = "sha256:" + hashlib.sha256(content).hexdigest()
			upload = requests.post(f"{self.url}/v2/{repository}/blobs/uploads/", auth=auth, timeout=10)
			upload.raise_for_status()
			location = upload.headers["Location"]
			location = location if location.startswith("http") else self.url + location
			separator = "&" if "?" in location else "?"
			requests.put(
				f"{location}{separator}digest={digest}", data=content, auth=auth, timeout=10
			).raise_for_status()
			return {"digest": digest, "size": len(content)}

		config = blob(
			json.dumps(
				{"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}
			).encode()
		)
		manifest = {
			"schemaVersion": 2,
			"mediaType": "application/vnd.docker.distribution.manifest.v2+json",
			"config": {"mediaType": "application/vnd.docker.container.image.v1+json", **config},
			"layers": [],
		}
		answer = requests.put(
			f"{self.url}/v2/{repository}/manifests/{tag}",
			data=json.dumps(manifest),
			headers={"Content-Type": manifest["mediaType"]},
			auth=auth,
			timeout=10,
		)
		answer.raise_for_status()
		return answer.headers["Docker-Content-Digest"]

	def stop(self) -> None:
		if self.process:
			stop_process(self.process)


@dataclass
class ReceivedMail:
	mail_from: str
	recipients: list[str]
	message: Message
	authenticated_as: str | None


@dataclass
class SMTPServer:
	"""A real SMTP server (aiosmtpd) that keeps what it receives; AUTH PLAIN/LOGIN without TLS."""

	username: str = "smtp-user"
	password: str = "smtp-password"
	port: int = field(default_factory=free_port)
	received: list[ReceivedMail] = field(default_factory=list)
	_controller: object = None
	_lock: threading.Lock = field(default_factory=threading.Lock)

	def start(self) -> "SMTPServer":
		from aiosmtpd.controller import Controller
		from aiosmtpd.smtp import AuthResult, LoginPassword

		server = self

		class Handler:
			async def handle_DATA(self, smtp_server, session, envelope):
				login = (
					session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else None
				)
				with server._lock:
					server.received.append(
						ReceivedMail(
							envelope.mail_from,
							list(envelope.rcpt_tos),
							message_from_bytes(envelope.original_content),
							login,
						)
					)
				return "250 Message accepted for delivery"

		def authenticator(smtp_server, session, envelope, mechanism, auth_data):
			accepted = (
				isinstance(auth_data, LoginPassword)
				and auth_data.login.decode() == server.username
				and auth_data.password.decode() == server.password
			)
			# handled=False on refusal: aiosmtpd then sends 535 itself (otherwise the client waits forever).
			return AuthResult(success=accepted, handled=False, auth_data=auth_data if accepted else None)

		self._controller = Controller(
			Handler(),
			hostname="127.0.0.1",
			port=self.port,
			authenticator=authenticator,
			auth_required=True,
			auth_require_tls=False,
			ready_timeout=10,
		)
		self._controller.start()
		return self

	def stop(self) -> None:
		if self._controller:
			self._controller.stop()


def _os_user() -> str:
	import pwd

	return pwd.getpwuid(os.geteuid()).pw_name
