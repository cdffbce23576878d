"""Each server of the harness does a real round trip over its own protocol."""

import os
import smtplib
import subprocess
import sys
import uuid
from email.message import EmailMessage
from pathlib import Path

import pymysql
import pytest
import requests
from rq import Queue
from rq.job import Job

from tests.support.standin import HTTPStandIn, Response

REPOSITORY = Path(__file__).resolve().parent.parent


def test_redis_set_get(redis_server):
	client = redis_server.client()
	client.set("greeting", "hello")
	assert client.get("greeting") == b"hello"


def test_rq_job_runs_in_a_real_worker(redis_server):
	connection = redis_server.client()
	queue = Queue("harness", connection=connection)
	job = queue.enqueue("tests.support.jobs.add", 2, 3)
	worker = Path(sys.executable).with_name("rq")
	subprocess.run(
		[str(worker), "worker", "--burst", "--url", redis_server.url, "harness"],
		cwd=REPOSITORY,
		env={**os.environ, "PYTHONPATH": str(REPOSITORY)},  # some wheels ship a top-level "tests" package
		check=True,
		capture_output=True,
		timeout=60,
	)
	finished = Job.fetch(job.id, connection=connection)
	assert finished.get_status() == "finished"
	assert finished.return_value() == 5


def test_mariadb_real_sql(mariadb_server):
	database = mariadb_server.create_database("harness_sql")
	with mariadb_server.connect(database) as connection, connection.cursor() as cursor:
		cursor.execute("CREATE TABLE tenant (name VARCHAR(140) PRIMARY KEY, plan VARCHAR(140))")
		cursor.executemany(
			"INSERT INTO tenant VALUES (%s, %s)", [("a.example.com", "basic"), ("b.example.com", "pro")]
		)
		connection.commit()
		cursor.execute("SELECT name FROM tenant WHERE plan = %s", ("pro",))
		assert cursor.fetchall() == (("b.example.com",),)
		with pytest.raises(pymysql.err.IntegrityError):
			cursor.execute("INSERT INTO tenant VALUES (%s, %s)", ("a.example.com", "pro"))


def test_s3_put_get_object(s3_server):
	client = s3_server.client()
	bucket = f"harness-{uuid.uuid4().hex[:8]}"
	client.create_bucket(Bucket=bucket)
	client.put_object(Bucket=bucket, Key="backups/site/db.sql.gz", Body=b"\x1f\x8b backup bytes")
	stored = client.get_object(Bucket=bucket, Key="backups/site/db.sql.gz")
	assert stored["Body"].read() == b"\x1f\x8b backup bytes"


def test_smtp_send_and_receive_with_auth(smtp_server):
	message = EmailMessage()
	message["From"] = "platform@example.com"
	message["To"] = "customer@example.org"
	message["Subject"] = "Your site is ready"
	message.set_content("https://acme.example.com is up.")
	with smtplib.SMTP("127.0.0.1", smtp_server.port, timeout=10) as client:
		client.login(smtp_server.username, smtp_server.password)
		client.send_message(message)
	received = smtp_server.received[-1]
	assert received.recipients == ["customer@example.org"]
	assert received.authenticated_as == smtp_server.username
	assert received.message["Subject"] == "Your site is ready"
	assert received.message.get_payload().strip() == "https://acme.example.com is up."


def test_smtp_refuses_a_wrong_password(smtp_server):
	with (
		smtplib.SMTP("127.0.0.1", smtp_server.port, timeout=10) as client,
		pytest.raises(smtplib.SMTPAuthenticationError),
	):
		client.login(smtp_server.username, "wrong")


class EchoStandIn(HTTPStandIn):
	name = "echo stand-in"

	def __init__(self):
		super().__init__()
		self.route("GET", "/ping", lambda request: Response(body={"message": "pong"}))
		self.route("POST", "/items/(?P<item>[a-z]+)", self.store)

	def store(self, request):
		return Response(201, {"item": request.params["item"], "received": request.json()})


@pytest.fixture
def echo():
	with EchoStandIn() as stand_in:
		yield stand_in


def test_standin_routes_and_records(echo):
	assert requests.get(f"{echo.url}/ping", timeout=5).json() == {"message": "pong"}
	answer = requests.post(
		f"{echo.url}/items/apple", json={"n": 1}, headers={"Authorization": "Bearer t"}, timeout=5
	)
	assert answer.status_code == 201
	assert answer.json() == {"item": "apple", "received": {"n": 1}}
	[recorded] = echo.requests_to("POST", "/items/.*")
	assert recorded.headers["Authorization"] == "Bearer t"
	assert requests.get(f"{echo.url}/nowhere", timeout=5).status_code == 404
	assert requests.delete(f"{echo.url}/ping", timeout=5).status_code == 405


def test_standin_faults(echo):
	echo.fail_next(503, times=2)
	assert [requests.get(f"{echo.url}/ping", timeout=5).status_code for _ in range(3)] == [503, 503, 200]

	echo.delay_next(1.0)
	with pytest.raises(requests.exceptions.ReadTimeout):
		requests.get(f"{echo.url}/ping", timeout=0.2)

	echo.drop_next(path_pattern="/items/")
	assert requests.get(f"{echo.url}/ping", timeout=5).ok  # the fault waits for a matching path
	with pytest.raises(requests.exceptions.ConnectionError):
		requests.post(f"{echo.url}/items/pear", json={}, timeout=5)
