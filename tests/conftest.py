"""Session-wide real servers on 127.0.0.1. A missing binary fails the run with what to install."""

import uuid

import pytest

from tests.support.processes import MissingBinaryError
from tests.support.servers import MariaDBServer, RedisServer, RegistryServer, S3StandIn, SMTPServer

# tests/frappe runs inside a real bench (bench run-tests), never under plain pytest.
collect_ignore = ["frappe"]


@pytest.fixture(autouse=True)
def lago_contract_kept():
	"""Whatever test talked to a Lago stand-in fails on its own account if a request or an answer broke
	Lago's OpenAPI spec, not the test that happens to stop the stand-in."""
	yield
	from tests.standins.lago import LagoStandIn

	for stand_in in list(LagoStandIn.running):
		stand_in.assert_contract_kept()


def _started(server):
	try:
		return server.start()
	except MissingBinaryError as error:
		pytest.fail(str(error), pytrace=False)


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
	server = _started(RedisServer(tmp_path_factory.mktemp("redis")))
	yield server
	server.stop()


@pytest.fixture(scope="session")
def mariadb_server(tmp_path_factory):
	server = _started(MariaDBServer(tmp_path_factory.mktemp("mariadb")))
	yield server
	server.stop()


@pytest.fixture(scope="session")
def s3_server():
	server = _started(S3StandIn())
	yield server
	server.stop()


@pytest.fixture(scope="session")
def registry_server(tmp_path_factory):
	server = _started(RegistryServer(tmp_path_factory.mktemp("registry")))
	yield server
	server.stop()


@pytest.fixture(scope="session")
def smtp_server():
	server = _started(SMTPServer())
	yield server
	server.stop()


@pytest.fixture
def storage_settings(s3_server):
	"""MinIO settings against the S3 stand-in, with bucket names of their own so tests never share state."""
	from press_selfhost.backups.s3 import StorageSettings

	suffix = uuid.uuid4().hex[:8]
	return StorageSettings(
		endpoint_url=s3_server.endpoint_url,
		access_key=s3_server.access_key,
		secret_key=s3_server.secret_key,
		backups_bucket=f"backups-{suffix}",
		private_bucket=f"private-{suffix}",
		public_bucket=f"public-{suffix}",
	)
