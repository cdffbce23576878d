"""The bootstrap plan: order, idempotence, minimal updates, version differences, no secret in the summary."""

import dataclasses
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from press_selfhost.errors import ConfigurationError
from press_selfhost.setup.bootstrap_plan import (
	Operation,
	fingerprint,
	named,
	plan_bootstrap,
	summary_rows,
	summary_table,
)
from press_selfhost.setup.bootstrap_records import (
	BootstrapSettings,
	InsertMethod,
	PressCapabilities,
	Ref,
	SitePlanSpec,
	missing_settings,
	parse_site_plans,
	settings_from_values,
)

SERVER_FIELDS = {
	"hostname",
	"domain",
	"cluster",
	"status",
	"private_ip",
	"is_primary",
	"agent_password",
	"ip",
}
# The fields the plan touches, as the DocType meta of Press 8542b9c (Feb 2025) and Frappe declare them.
FIELDS_FEB_2025 = {
	"TLS Certificate": {"domain", "wildcard", "status", "rsa_key_size", "provider"},
	"Cluster": {"cloud_provider", "title", "public"},
	"Root Domain": {"dns_provider", "aws_access_key_id", "aws_secret_access_key", "default_cluster"},
	"Proxy Server": SERVER_FIELDS | {"domains"},
	"Proxy Server.domains": {"domain"},
	"Database Server": SERVER_FIELDS | {"mariadb_root_password"},
	"Server": SERVER_FIELDS
	| {"proxy_server", "database_server", "public", "use_for_new_benches", "use_for_new_sites"},
	"Press Settings": {
		"domain",
		"cluster",
		"aws_s3_bucket",
		"offsite_backups_access_key_id",
		"offsite_backups_secret_access_key",
		"docker_registry_url",
		"docker_registry_username",
		"docker_registry_password",
	},
	"User": {"email", "first_name", "send_welcome_email"},
	"Team": {"user", "enabled", "free_account", "team_members"},
	"Team.team_members": {"user"},
	# a child DocType: the shell counts its parent fields as its own
	"Has Role": {"role", "parent", "parenttype", "parentfield"},
	"App": {"title"},
	"App Source": {
		"app",
		"app_title",
		"repository_url",
		"branch",
		"team",
		"public",
		"enabled",
		"last_github_poll_failed",
		"versions",
	},
	"App Source.versions": {"version"},
	"App Release": {"app", "source", "hash", "team", "status", "cloned"},
	"Release Group": {"title", "version", "team", "public", "enabled", "apps", "servers"},
	"Release Group.apps": {"app", "source", "title", "enable_auto_deploy"},
	"Release Group.servers": {"server", "default"},
	"Deploy Candidate": {
		"group",
		"team",
		"status",
		"docker_image",
		"docker_image_repository",
		"docker_image_tag",
		"apps",
	},
	"Deploy Candidate.apps": {"app", "source", "release", "hash", "title", "app_name"},
	"Bench": {
		"group",
		"server",
		"candidate",
		"status",
		"docker_image",
		"gunicorn_workers",
		"background_workers",
		"cluster",
		"team",
		"database_server",
	},
	"Site Plan": {"plan_title", "document_type", "interval", "price_inr", "price_usd", "enabled", "roles"},
	"Site Plan.roles": {"role", "parent", "parenttype", "parentfield"},
	"Lago Plan Map": {"site_plan", "lago_plan_code"},
	"Email Account": {
		"email_account_name",
		"email_id",
		"enable_outgoing",
		"default_outgoing",
		"smtp_server",
		"smtp_port",
		"use_tls",
		"login_id_is_different",
		"login_id",
		"no_smtp_authentication",
		"password",
	},
}
PRESS_FEB_2025 = PressCapabilities(
	fields={doctype: frozenset(names) for doctype, names in FIELDS_FEB_2025.items()},
	select_options={
		"Root Domain.dns_provider": ("AWS Route 53",),
	},
	roles=frozenset({"Administrator", "System Manager", "Press Admin", "Press Member"}),
)
# Press 010bc70 (Aug 2026): a Generic DNS provider, and builds moved out of Deploy Candidate.
PRESS_AUG_2026 = PressCapabilities(
	fields={
		**PRESS_FEB_2025.fields,
		"Deploy Candidate": frozenset({"group", "team", "apps"}),
		"Proxy Server": PRESS_FEB_2025.fields["Proxy Server"] | {"use_as_proxy_for_agent_and_metrics"},
		"Press Settings": PRESS_FEB_2025.fields["Press Settings"] | {"disable_frappe_auth"},
	},
	select_options={**PRESS_FEB_2025.select_options, "Root Domain.dns_provider": ("AWS Route 53", "Generic")},
	roles=PRESS_FEB_2025.roles | {"Press User"},
)

SECRETS = {
	"app_agent_password": "app-agent-secret-1",
	"proxy_agent_password": "proxy-agent-secret-2",
	"mariadb_root_password": "mariadb-root-secret-3",
	"smtp_password": "smtp-secret-4",
	"docker_registry_password": "registry-secret-7",
}
SETTINGS = BootstrapSettings(
	domain="example.com",
	admin_email="admin@example.com",
	app_server_private_ip="agent",
	proxy_server_private_ip="proxy",
	database_server_private_ip="mariadb",
	bench_image="registry.example.com/bench:v15.1",
	smtp_host="postal-smtp",
	smtp_port=25,
	smtp_username="press",
	mail_from_address="cloud@example.com",
	docker_registry_url="registry.example.com",
	docker_registry_username="press",
	site_plans=(SitePlanSpec("starter", "Starter"), SitePlanSpec("business", "Business")),
	**SECRETS,
)


def applied(snapshot, actions):
	"""The snapshot that carrying out `actions` produces, as the shell would read it back."""
	result = {
		doctype: {name: dict(values) for name, values in records.items()}
		for doctype, records in snapshot.items()
	}
	names: dict[str, str] = {}
	counter = itertools.count(1)
	for action in actions:
		if action.operation is Operation.WAIT:
			continue
		fields, _children = named(action, names)
		stored = {k: fingerprint(v) if k in action.secret_fields else v for k, v in fields.items()}
		name = action.name or f"{action.doctype}-{next(counter)}"
		result.setdefault(action.doctype, {}).setdefault(name, {}).update(stored)
		names[action.key] = name
	return result


def operations(actions):
	return {action.key: action.operation for action in actions}


def test_a_fresh_press_gets_every_record_created_in_dependency_order():
	actions = plan_bootstrap(SETTINGS, {}, PRESS_FEB_2025)
	assert all(action.operation is Operation.CREATE for action in actions)
	keys = [action.key for action in actions]
	assert keys[:6] == [
		"TLS Certificate",
		"Cluster",
		"Root Domain",
		"Proxy Server",
		"Database Server",
		"Server",
	]
	# every Ref points back to an earlier action: the shell can name it before it is needed
	for position, action in enumerate(actions):
		values = [*action.fields.values(), *action.lookup.values()]
		values += [v for rows in action.children.values() for row in rows for v in row.values()]
		for value in values:
			if isinstance(value, Ref):
				assert value.key in keys[:position], f"{action.key} refers to {value.key} before it exists"
	assert "Site Plan starter" in keys and "Site Plan business" in keys
	assert keys[6:10] == ["Press Settings", "User", "Team", "Team Owner Role"]
	assert "Backup Bucket" not in keys  # Press must not upload offsite itself: the shipper does
	assert keys[-1] == "Email Account"


def test_the_wildcard_certificate_skips_hooks_and_servers_are_active_without_ip():
	actions = {action.key: action for action in plan_bootstrap(SETTINGS, {}, PRESS_FEB_2025)}
	certificate = actions["TLS Certificate"]
	assert certificate.insert_method is InsertMethod.DB_INSERT
	assert certificate.name == "*.example.com"
	for key, hostname in (("Server", "f1"), ("Proxy Server", "n1"), ("Database Server", "m1")):
		assert actions[key].name == f"{hostname}.example.com"
		assert actions[key].fields["status"] == "Active"
		assert "ip" not in actions[key].fields
	assert actions["App Source"].fields["last_github_poll_failed"] == 1
	assert actions["Release Group"].children["apps"][0]["enable_auto_deploy"] == 0
	assert actions["Team"].fields["free_account"] == 1


def test_the_dns_provider_is_chosen_from_what_press_offers():
	old = {a.key: a for a in plan_bootstrap(SETTINGS, {}, PRESS_FEB_2025)}["Root Domain"]
	new = {a.key: a for a in plan_bootstrap(SETTINGS, {}, PRESS_AUG_2026)}["Root Domain"]
	assert old.fields["dns_provider"] == "AWS Route 53"
	assert old.fields["aws_access_key_id"]
	assert "aws_secret_access_key" in old.secret_fields
	assert new.fields == {"dns_provider": "Generic", "default_cluster": "Default"}

	nothing_known = dataclasses.replace(
		PRESS_FEB_2025, select_options={"Root Domain.dns_provider": ("Cloudflare",)}
	)
	with pytest.raises(ConfigurationError, match="Cloudflare"):
		plan_bootstrap(SETTINGS, {}, nothing_known)


def test_newer_press_does_not_route_agent_requests_through_the_proxy():
	proxy = {a.key: a for a in plan_bootstrap(SETTINGS, {}, PRESS_AUG_2026)}["Proxy Server"]
	assert proxy.fields["use_as_proxy_for_agent_and_metrics"] == 0
	assert proxy.hook_free_fields == {"use_as_proxy_for_agent_and_metrics"}
	old = {a.key: a for a in plan_bootstrap(SETTINGS, {}, PRESS_FEB_2025)}["Proxy Server"]
	assert "use_as_proxy_for_agent_and_metrics" not in old.fields and not old.hook_free_fields


def test_press_settings_turn_frappe_io_off_where_press_has_the_switch():
	new = {a.key: a for a in plan_bootstrap(SETTINGS, {}, PRESS_AUG_2026)}["Press Settings"]
	assert new.fields["disable_frappe_auth"] == 1
	assert new.fields["aws_s3_bucket"] == ""
	assert new.secret_fields == {"offsite_backups_secret_access_key", "docker_registry_password"}
	old = {a.key: a for a in plan_bootstrap(SETTINGS, {}, PRESS_FEB_2025)}["Press Settings"]
	assert "disable_frappe_auth" not in old.fields


def test_fields_the_installed_press_lacks_are_left_out():
	candidate = {a.key: a for a in plan_bootstrap(SETTINGS, {}, PRESS_AUG_2026)}["Deploy Candidate"]
	assert set(candidate.fields) == {"group", "team"}
	assert candidate.children["apps"][0]["app"] == "frappe"


@pytest.mark.parametrize("capabilities", [PRESS_FEB_2025, PRESS_AUG_2026], ids=["feb-2025", "aug-2026"])
def test_planning_again_after_applying_changes_nothing(capabilities):
	first = plan_bootstrap(SETTINGS, {}, capabilities)
	second = plan_bootstrap(SETTINGS, applied({}, first), capabilities)
	assert {action.operation for action in second} == {Operation.UNCHANGED}
	assert all(action.name for action in second)
	assert [a.key for a in second] == [a.key for a in first]


def test_a_changed_image_updates_only_the_candidate_and_the_bench():
	snapshot = applied({}, plan_bootstrap(SETTINGS, {}, PRESS_FEB_2025))
	changed = dataclasses.replace(SETTINGS, bench_image="registry.example.com/bench:v15.2")
	actions = plan_bootstrap(changed, snapshot, PRESS_FEB_2025)
	updated = {a.key: a.fields for a in actions if a.operation is Operation.UPDATE}
	assert updated == {
		"Deploy Candidate": {"docker_image": "registry.example.com/bench:v15.2", "docker_image_tag": "v15.2"},
		"Bench": {"docker_image": "registry.example.com/bench:v15.2"},
	}
	assert not [a for a in actions if a.operation is Operation.CREATE]


def test_a_changed_secret_updates_only_its_record_and_is_never_printed():
	snapshot = applied({}, plan_bootstrap(SETTINGS, {}, PRESS_FEB_2025))
	changed = dataclasses.replace(SETTINGS, app_agent_password="rotated-agent-secret")
	actions = plan_bootstrap(changed, snapshot, PRESS_FEB_2025)
	updated = [a for a in actions if a.operation is not Operation.UNCHANGED]
	assert [(a.key, dict(a.fields)) for a in updated] == [
		("Server", {"agent_password": "rotated-agent-secret"})
	]
	assert "rotated-agent-secret" not in repr(summary_rows(actions))


def test_records_changed_by_hand_are_brought_back_but_create_only_fields_are_left_alone():
	snapshot = applied({}, plan_bootstrap(SETTINGS, {}, PRESS_FEB_2025))
	snapshot["Server"]["f1.example.com"]["status"] = "Broken"
	bench_name = next(iter(snapshot["Bench"]))
	snapshot["Bench"][bench_name]["status"] = "Updating"
	actions = plan_bootstrap(SETTINGS, snapshot, PRESS_FEB_2025)
	updated = {a.key: dict(a.fields) for a in actions if a.operation is Operation.UPDATE}
	assert updated == {"Server": {"status": "Active"}}


def test_optional_services_are_planned_only_when_configured():
	bare = dataclasses.replace(SETTINGS, smtp_host="")
	keys = {a.key for a in plan_bootstrap(bare, {}, PRESS_FEB_2025)}
	assert "Email Account" not in keys


def test_missing_settings_are_named_all_at_once_without_values():
	incomplete = dataclasses.replace(SETTINGS, domain="", app_agent_password="", bench_image="")
	with pytest.raises(ConfigurationError) as raised:
		plan_bootstrap(incomplete, {}, PRESS_FEB_2025)
	message = str(raised.value)
	assert "domain" in message and "agent_password" in message and "bench_image" in message
	assert not any(secret in message for secret in SECRETS.values())


# A marker that no field name or value contains, so a hit can only be a leaked secret.
secret_text = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_!@#", max_size=30).map(
	lambda text: f"SECRET{text}"
)


@settings(max_examples=40, deadline=None)
@given(secrets=st.fixed_dictionaries(dict.fromkeys(SECRETS, secret_text)), existing=st.booleans())
def test_no_secret_ever_appears_in_the_summary(secrets, existing):
	chosen = dataclasses.replace(SETTINGS, **secrets)
	snapshot = applied({}, plan_bootstrap(SETTINGS, {}, PRESS_FEB_2025)) if existing else {}
	printed = repr(summary_rows(plan_bootstrap(chosen, snapshot, PRESS_FEB_2025)))
	for secret in secrets.values():
		assert secret not in printed


@settings(max_examples=40, deadline=None)
@given(
	domain=st.from_regex(r"[a-z]{1,10}\.(com|org|cloud)", fullmatch=True),
	image_tag=st.from_regex(r"v[0-9]{1,2}\.[0-9]{1,2}", fullmatch=True),
	workers=st.integers(min_value=1, max_value=16),
	generic_dns=st.booleans(),
)
def test_any_settings_reach_a_fixed_point_after_one_apply(domain, image_tag, workers, generic_dns):
	chosen = dataclasses.replace(
		SETTINGS,
		domain=domain,
		bench_image=f"registry.example.com/bench:{image_tag}",
		gunicorn_workers=workers,
	)
	capabilities = PRESS_AUG_2026 if generic_dns else PRESS_FEB_2025
	first = plan_bootstrap(chosen, {}, capabilities)
	named_records = [(a.doctype, a.name) for a in first if a.name]
	assert len(named_records) == len(set(named_records))
	again = plan_bootstrap(chosen, applied({}, first), capabilities)
	assert operations(again) == dict.fromkeys(operations(first), Operation.UNCHANGED)


def test_settings_are_read_from_selfhost_settings_fieldnames_with_defaults():
	values = {
		"domain": "example.com",
		"bootstrap_admin_email": "admin@example.com",
		"app_server_private_ip": "agent",
		"proxy_server_private_ip": "proxy",
		"database_server_private_ip": "mariadb",
		"agent_password": "a",
		"proxy_agent_password": "p",
		"mariadb_root_password": "m",
		"bench_image": "bench:1",
		"postal_smtp_port": 0,
		"site_plans": "starter = Starter\n# a comment\n\nbusiness",
	}
	chosen = settings_from_values(values)
	assert missing_settings(chosen) == []
	assert chosen.smtp_port == 25 and chosen.cluster == "Default"
	assert chosen.site_plans == (SitePlanSpec("starter", "Starter"), SitePlanSpec("business", "business"))
	assert missing_settings(settings_from_values({"domain": "example.com"}))[:2] == [
		"bootstrap_admin_email",
		"app_server_private_ip",
	]


def test_a_site_plan_line_that_is_not_a_plan_code_is_refused():
	with pytest.raises(ConfigurationError, match="not a Lago plan code"):
		parse_site_plans("two words = Title")


def test_the_summary_table_shows_every_action_and_marks_hook_free_writes():
	table = summary_table(plan_bootstrap(SETTINGS, {}, PRESS_FEB_2025)).splitlines()
	assert table[0].split()[:3] == ["ACTION", "DOCTYPE", "NAME"]
	assert len(table) == 1 + len(plan_bootstrap(SETTINGS, {}, PRESS_FEB_2025))
	assert table[1].startswith("create (no hooks)  TLS Certificate")
	assert any("Bench" in line and "group=<Release Group>" in line for line in table)
	assert not any(secret in "\n".join(table) for secret in SECRETS.values())


@pytest.mark.parametrize("capabilities", [PRESS_FEB_2025, PRESS_AUG_2026], ids=["feb-2025", "aug-2026"])
def test_records_linked_by_name_come_first_and_the_order_is_deterministic(capabilities):
	actions = plan_bootstrap(SETTINGS, {}, capabilities)
	assert actions == plan_bootstrap(SETTINGS, {}, capabilities)
	position = {(a.name): index for index, a in enumerate(actions) if a.name}
	for index, action in enumerate(actions):
		# TLS Certificate.domain is Data, not a link: the certificate must precede the Root Domain,
		# whose after_insert would otherwise ask certbot for one.
		values = [v for k, v in action.fields.items() if (action.doctype, k) != ("TLS Certificate", "domain")]
		values += [v for rows in action.children.values() for row in rows for v in row.values()]
		for value in values:
			if isinstance(value, str) and value in position and value != action.name:
				assert position[value] < index, f"{action.key} links to {value} before it is created"


def test_the_cluster_press_installs_is_reused_even_when_named_in_another_case():
	chosen = dataclasses.replace(SETTINGS, cluster="default")
	snapshot = {"Cluster": {"Default": {"cloud_provider": "AWS EC2", "title": None, "public": 0}}}
	cluster = {a.key: a for a in plan_bootstrap(chosen, snapshot, PRESS_FEB_2025)}["Cluster"]
	assert (cluster.operation, cluster.name) == (Operation.UPDATE, "Default")
	assert cluster.fields == {"cloud_provider": "Generic", "title": "default", "public": 1}


def test_press_offsite_settings_an_earlier_bootstrap_wrote_are_cleared():
	"""With them, Press asks the stock Agent to upload backups to AWS itself (and lose them on failure)."""
	earlier = {
		"aws_s3_bucket": "backups",
		"offsite_backups_access_key_id": "minio-access",
		"offsite_backups_secret_access_key": fingerprint("minio-secret-6"),
	}
	snapshot = applied({}, plan_bootstrap(SETTINGS, {}, PRESS_FEB_2025))
	snapshot["Press Settings"]["Press Settings"].update(earlier)
	press_settings = {a.key: a for a in plan_bootstrap(SETTINGS, snapshot, PRESS_FEB_2025)}["Press Settings"]
	assert press_settings.operation is Operation.UPDATE
	assert press_settings.fields == dict.fromkeys(earlier, "")
	assert press_settings.printable_fields()["offsite_backups_secret_access_key"] == "********"
	snapshot = applied(snapshot, [press_settings])
	assert snapshot["Press Settings"]["Press Settings"]["offsite_backups_secret_access_key"] == ""
	assert {a.operation for a in plan_bootstrap(SETTINGS, snapshot, PRESS_FEB_2025)} == {Operation.UNCHANGED}


def test_press_settings_get_the_registry_the_agent_pulls_the_bench_image_from():
	actions = plan_bootstrap(SETTINGS, {}, PRESS_FEB_2025)
	press = {a.key: a for a in actions}["Press Settings"]
	assert {k: v for k, v in press.fields.items() if k.startswith("docker_registry")} == {
		"docker_registry_url": "registry.example.com",
		"docker_registry_username": "press",
		"docker_registry_password": "registry-secret-7",
	}
	assert press.printable_fields()["docker_registry_password"] == "********"
	assert "registry-secret-7" not in summary_table(actions)

	# without a registry in Selfhost Settings, what the operator set in Press Settings is left alone
	bare = dataclasses.replace(SETTINGS, docker_registry_url="")
	press = {a.key: a for a in plan_bootstrap(bare, {}, PRESS_FEB_2025)}["Press Settings"]
	assert not [k for k in press.fields if k.startswith("docker_registry")]


def test_a_changed_registry_password_updates_only_that_field():
	snapshot = applied({}, plan_bootstrap(SETTINGS, {}, PRESS_FEB_2025))
	# Press keeps it in a Data field: the shell fingerprints the stored value like a Password's
	stored = snapshot["Press Settings"]["Press Settings"]["docker_registry_password"]
	assert stored == fingerprint("registry-secret-7")
	changed = dataclasses.replace(SETTINGS, docker_registry_password="rotated-registry-secret")
	actions = plan_bootstrap(changed, snapshot, PRESS_FEB_2025)
	updated = [
		(a.key, dict(a.fields), a.secret_fields) for a in actions if a.operation is not Operation.UNCHANGED
	]
	assert updated == [
		(
			"Press Settings",
			{"docker_registry_password": "rotated-registry-secret"},
			{"docker_registry_password"},
		)
	]
	assert "rotated-registry-secret" not in repr(summary_rows(actions))


@pytest.mark.parametrize(
	("capabilities", "role"),
	[(PRESS_FEB_2025, "Press Admin"), (PRESS_AUG_2026, "Press User")],
	ids=["feb-2025", "aug-2026"],
)
def test_the_team_owner_gets_the_role_press_gives_customers_at_signup(capabilities, role):
	actions = {a.key: a for a in plan_bootstrap(SETTINGS, {}, capabilities)}
	grant = actions["Team Owner Role"]
	assert (grant.doctype, grant.operation, grant.insert_method) == (
		"Has Role",
		Operation.CREATE,
		InsertMethod.APPEND_TO_PARENT,
	)
	assert grant.fields == {
		"parenttype": "User",
		"parent": "admin@example.com",
		"parentfield": "roles",
		"role": role,
	}


def test_an_owner_who_already_has_the_role_is_left_alone_and_other_users_roles_do_not_count():
	other_users_role = {"parenttype": "User", "parent": "someone@example.com", "role": "Press Admin"}
	snapshot = {"Has Role": {"row-1": other_users_role}}
	grant = {a.key: a for a in plan_bootstrap(SETTINGS, snapshot, PRESS_FEB_2025)}["Team Owner Role"]
	assert grant.operation is Operation.CREATE

	owners_role = {**other_users_role, "parent": "admin@example.com", "parentfield": "roles"}
	snapshot = {"Has Role": {"row-1": other_users_role, "row-2": owners_role}}
	grant = {a.key: a for a in plan_bootstrap(SETTINGS, snapshot, PRESS_FEB_2025)}["Team Owner Role"]
	assert (grant.operation, grant.name, grant.fields) == (Operation.UNCHANGED, "row-2", {})


UNREACHED = {
	"Server": "https://f1.example.com/agent is unreachable (connection refused)",
	"Bench image": "registry.example.com/bench:v1 is not in the registry",
}


def test_unreached_servers_are_created_pending_and_the_bench_waits():
	actions = {a.key: a for a in plan_bootstrap(SETTINGS, {}, PRESS_FEB_2025, unreached=UNREACHED)}
	assert actions["Server"].operation is Operation.CREATE
	assert actions["Server"].fields["status"] == "Pending"
	assert actions["Proxy Server"].fields["status"] == "Active"
	assert actions["Bench"].operation is Operation.WAIT
	assert actions["Bench"].fields == {}
	assert "connection refused" in actions["Bench"].reason
	assert "not in the registry" in actions["Bench"].reason
	printed = summary_table(list(actions.values()))
	assert "wait" in printed
	assert "not in the registry" in printed


def test_a_pending_server_becomes_active_once_reached_and_an_active_one_is_never_demoted():
	pending = applied({}, plan_bootstrap(SETTINGS, {}, PRESS_FEB_2025, unreached=UNREACHED))
	assert "Bench" not in pending
	reached = {a.key: a for a in plan_bootstrap(SETTINGS, pending, PRESS_FEB_2025)}
	assert reached["Server"].operation is Operation.UPDATE
	assert reached["Server"].fields == {"status": "Active"}
	assert reached["Bench"].operation is Operation.CREATE
	active = applied(pending, list(reached.values()))
	down_again = {a.key: a for a in plan_bootstrap(SETTINGS, active, PRESS_FEB_2025, unreached=UNREACHED)}
	assert down_again["Server"].operation is Operation.UNCHANGED
	assert down_again["Bench"].operation is Operation.UNCHANGED  # it exists: nothing to wait for


@pytest.mark.parametrize(
	("capabilities", "roles"),
	[(PRESS_FEB_2025, ["Press Admin"]), (PRESS_AUG_2026, ["Press User", "Press Admin"])],
	ids=["feb-2025", "aug-2026"],
)
def test_site_plans_are_offered_to_the_roles_customers_have_and_mapped_to_their_lago_plan(
	capabilities, roles
):
	actions = {a.key: a for a in plan_bootstrap(SETTINGS, {}, capabilities)}
	plan = actions["Site Plan starter"]
	assert [row["role"] for row in plan.children["roles"]] == roles
	mapping = actions["Lago Plan Map starter"]
	assert (mapping.doctype, mapping.operation) == ("Lago Plan Map", Operation.CREATE)
	assert mapping.fields == {"site_plan": "starter", "lago_plan_code": "starter"}


def test_bootstrap_never_undoes_the_prices_and_plan_codes_synced_from_lago():
	snapshot = applied({}, plan_bootstrap(SETTINGS, {}, PRESS_FEB_2025))
	snapshot["Site Plan"]["starter"].update(price_usd=25.0, price_inr=25.0, interval="Annually")
	snapshot["Lago Plan Map"]["starter"]["lago_plan_code"] = "starter-2027"
	snapshot["Site Plan"]["business"]["plan_title"] = "Renamed by hand"
	actions = plan_bootstrap(SETTINGS, snapshot, PRESS_FEB_2025)
	updated = {a.key: dict(a.fields) for a in actions if a.operation is Operation.UPDATE}
	assert updated == {"Site Plan business": {"plan_title": "Business"}}
