"""compose/init_secrets.py: secrets generated once, kept forever, never printed."""

import stat

from tests.support.compose import COMPOSE_DIR, ENV_EXAMPLE, load_init_secrets, parse_env_file

init_secrets = load_init_secrets()


def _run(env_path, capsys):
	assert init_secrets.main(["init_secrets.py", str(env_path), str(ENV_EXAMPLE)]) == 0
	captured = capsys.readouterr()
	return captured.out + captured.err


def test_first_run_fills_every_secret_and_prints_none(tmp_path, capsys):
	env_path = tmp_path / ".env"
	output = _run(env_path, capsys)
	values = parse_env_file(env_path.read_text())
	secrets = [*init_secrets.SECRETS, *init_secrets.DERIVED_SECRETS]
	assert all(len(values[name]) >= 20 for name in secrets)
	assert len({values[name] for name in secrets}) == len(secrets)
	assert not [name for name in secrets if values[name] in output]
	assert all(name in output for name in secrets)
	assert stat.S_IMODE(env_path.stat().st_mode) == 0o600


def test_second_run_changes_nothing(tmp_path, capsys):
	env_path = tmp_path / ".env"
	_run(env_path, capsys)
	before = env_path.read_text()
	output = _run(env_path, capsys)
	assert env_path.read_text() == before
	assert "nothing changed" in output


def test_values_set_by_the_admin_are_kept(tmp_path, capsys):
	env_path = tmp_path / ".env"
	text = ENV_EXAMPLE.read_text().replace("\nDATABASE_PASSWORD=\n", "\nDATABASE_PASSWORD=chosen-by-admin\n")
	env_path.write_text(text.replace("\nDOMAIN=localhost\n", "\nDOMAIN=example.org\n"))
	output = _run(env_path, capsys)
	values = parse_env_file(env_path.read_text())
	assert values["DATABASE_PASSWORD"] == "chosen-by-admin"
	assert values["DOMAIN"] == "example.org"
	assert "DATABASE_PASSWORD" not in output
	assert values["REDIS_PASSWORD"]


def test_a_secret_missing_from_an_older_env_is_added_once(tmp_path, capsys):
	env_path = tmp_path / ".env"
	_run(env_path, capsys)
	values = parse_env_file(env_path.read_text())
	lines = [line for line in env_path.read_text().splitlines() if not line.startswith("POSTAL_DB_PASSWORD=")]
	env_path.write_text("\n".join(lines) + "\n")
	output = _run(env_path, capsys)
	after = parse_env_file(env_path.read_text())
	assert after["POSTAL_DB_PASSWORD"] and after["POSTAL_DB_PASSWORD"] != values["POSTAL_DB_PASSWORD"]
	assert {key: value for key, value in after.items() if key != "POSTAL_DB_PASSWORD"} == {
		key: value for key, value in values.items() if key != "POSTAL_DB_PASSWORD"
	}
	assert after["POSTAL_DB_PASSWORD"] not in output
	_run(env_path, capsys)
	assert env_path.read_text().count("POSTAL_DB_PASSWORD=") == 1


def test_generated_values_survive_compose_interpolation(tmp_path, capsys):
	"""No `$`, quote, space or `#` that Compose's .env reader would alter."""
	env_path = tmp_path / ".env"
	_run(env_path, capsys)
	for line in env_path.read_text().splitlines():
		name, _, value = line.partition("=")
		if name in init_secrets.SECRETS:
			assert not set(value) & set("$'\"# \\")
			assert parse_env_file(line)[name] == value


def test_registry_htpasswd_matches_its_password(tmp_path, capsys):
	env_path = tmp_path / ".env"
	_run(env_path, capsys)
	values = parse_env_file(env_path.read_text())
	assert values["REGISTRY_HTPASSWD"] == init_secrets.registry_htpasswd(values)
	assert values["REGISTRY_HTPASSWD"].startswith("press:{SHA}")


def test_the_generated_env_is_never_committed():
	assert ".env" in (COMPOSE_DIR / ".gitignore").read_text().splitlines()
