"""Static checks of the README's claims about this repository (issue 6: a reader follows it without
guessing). Each check reads the README's text and the repository's files, imports nothing of ours,
and returns a list of problems naming what the README says and why it no longer holds.
"""

import ast
import json
import re
from pathlib import Path

from tests.support import compose
from tests.support.frappe_shell import _module_source, _top_level_names

SETTINGS_JSON = Path("press_selfhost/press_selfhost/doctype/selfhost_settings/selfhost_settings.json")
COMMANDS_PY = Path("press_selfhost/commands.py")

# Backticked snake_case names with these prefixes are Selfhost Settings fields, except the few below.
SETTINGS_PREFIXES = ("lago_", "keycloak_", "postal_", "minio_", "backup_", "traefik_", "agent_", "proxy_")
NOT_SETTINGS = frozenset(
	{
		"agent_ca",  # a compose volume
		"proxy_agent_data",  # a compose volume
		"keycloak_sso_enabled",  # a Site field press_selfhost adds
		"backup_url",  # values of the site_archived mail
		"backup_expires_on",
	}
)
# Top-level folders whose backticked paths must exist (compose/.env is made by init.sh).
REPOSITORY_FOLDERS = ("press_selfhost/", "tests/", "compose/", "bench/", "dev/", "tenant/", ".ci/")
GENERATED_PATHS = frozenset({"compose/.env"})

_BACKTICKED = re.compile(r"`([^`\n]+)`")
_DOTTED = re.compile(r"\bpress_selfhost(?:\.[A-Za-z_]\w*)+")
_COMMAND = re.compile(r"press-selfhost ([a-z][a-z-]*)((?:[ \t]+\[?--[a-z-]+\]?)*)")


def backticked(readme: str) -> list[str]:
	return _BACKTICKED.findall(readme)


def check_dotted_paths(readme: str, repository: Path) -> list[str]:
	"""Every `press_selfhost.x.y` names a module of the app or a top-level name in one."""
	app_dir = repository / "press_selfhost"
	problems = []
	for dotted in sorted(set(_DOTTED.findall(readme))):
		if _module_source(app_dir, dotted) is not None:
			continue
		module, _, attribute = dotted.rpartition(".")
		source = _module_source(app_dir, module)
		if source is None:
			problems.append(f"README names {dotted}, but module {module} does not exist")
		elif attribute not in _top_level_names(ast.parse(source.read_text())):
			problems.append(f"README names {dotted}, but {module} defines no {attribute}")
	return problems


def check_settings_fields(readme: str, settings: dict) -> list[str]:
	"""Every backticked Selfhost Settings fieldname and every `Selfhost Settings → <Label>` exists."""
	fields = settings["fields"]
	fieldnames = {field["fieldname"] for field in fields}
	labels = {field["label"] for field in fields if field.get("label")}
	# Sections are named without their note: "Postal (mail)" is "Selfhost Settings → Postal".
	labels |= {label.split(" (")[0] for label in labels}
	problems = []
	for name in sorted(set(backticked(readme))):
		is_setting = name.startswith(SETTINGS_PREFIXES) and re.fullmatch(r"[a-z0-9_]+", name)
		if is_setting and name not in fieldnames and name not in NOT_SETTINGS:
			problems.append(f"README names the setting `{name}`, which Selfhost Settings does not have")
	for match in re.finditer(r"Selfhost Settings\s+→\s+(`[a-z0-9_]+`|[A-Z][\w-]*(?: [A-Z][\w-]*)*)", readme):
		named = match.group(1)
		if named.strip("`") not in fieldnames and named not in labels:
			problems.append(f"README says 'Selfhost Settings → {named}', which is no field or section")
	return problems


def check_repository_paths(readme: str, repository: Path) -> list[str]:
	"""Every backticked path into this repository's own folders exists."""
	problems = []
	for text in sorted(set(backticked(readme))):
		path = text.split()[0] if text.split() else text
		if not path.startswith(REPOSITORY_FOLDERS) or path in GENERATED_PATHS or "<" in path:
			continue
		if not (repository / path).exists():
			problems.append(f"README names {path}, which does not exist")
	return problems


def check_environment_names(readme: str, repository: Path) -> list[str]:
	"""Every backticked UPPER_CASE name (a .env variable, a header value) occurs in the code."""
	sources = [repository / "compose", repository / "press_selfhost", repository / "tests"]
	text = "\n".join(
		path.read_text(errors="replace")
		for folder in sources
		for path in folder.rglob("*")
		if path.is_file()
		and "node_modules" not in path.parts
		and path.suffix != ".pyc"
		and path.name not in {"readme.py", "test_readme.py"}  # these name variables that do not exist
	)
	text += (repository / "compose" / ".env.example").read_text()
	names = {name for name in backticked(readme) if re.fullmatch(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+", name)}
	return [
		f"README names {name}, which nothing in compose/, press_selfhost/ or tests/ uses"
		for name in sorted(names)
		if not re.search(rf"\b{name}\b", text)
	]


def check_sso_routes(readme: str, repository: Path) -> list[str]:
	"""Every `/auth/keycloak/<page>` is a www page of press_selfhost and of the tenant app."""
	problems = []
	for page in sorted(set(re.findall(r"/auth/keycloak/(\w+)", readme))):
		for app in ("press_selfhost", "tenant/press_selfhost_tenant"):
			if not (repository / app / "www" / "auth" / "keycloak" / f"{page}.py").exists():
				problems.append(f"README names /auth/keycloak/{page}, which {app} does not serve")
	return problems


def bench_commands(commands_py: Path) -> dict[str, set[str]]:
	"""`press-selfhost` subcommands and the options of each, read from commands.py's decorators."""
	commands = {}
	for node in ast.parse(commands_py.read_text()).body:
		if not isinstance(node, ast.FunctionDef):
			continue
		name, options = None, set()
		for decorator in node.decorator_list:
			if not isinstance(decorator, ast.Call):
				continue
			called = ast.unparse(decorator.func)
			strings = [arg.value for arg in decorator.args if isinstance(arg, ast.Constant)]
			if called == "press_selfhost.command" and strings:
				name = strings[0]
			elif called == "click.option":
				options.update(value for value in strings if value.startswith("--"))
		if name:
			commands[name] = options
	return commands


def check_bench_commands(readme: str, commands: dict[str, set[str]]) -> list[str]:
	"""Every `press-selfhost <command> [--option]` the README shows exists with that option."""
	problems = []
	for match in _COMMAND.finditer(readme):
		command, options = match.group(1), re.findall(r"--[a-z-]+", match.group(2))
		if command not in commands:
			problems.append(f"README runs `press-selfhost {command}`, which commands.py does not define")
			continue
		problems.extend(
			f"README runs `press-selfhost {command} {option}`, an option it does not have"
			for option in options
			if option not in commands[command]
		)
	return problems


def _expand(service: str, names: set[str]) -> set[str]:
	"""`redis-sentinel-1..3` and `press-*` as the README writes groups of services."""
	if match := re.fullmatch(r"(.+-)(\d+)\.\.(\d+)", service):
		return {f"{match.group(1)}{number}" for number in range(int(match.group(2)), int(match.group(3)) + 1)}
	if service.endswith("*"):
		return {name for name in names if name.startswith(service[:-1])}
	return {service}


def check_profiles_table(readme: str, document: dict) -> list[str]:
	"""The "Profiles" table lists exactly the services compose.yaml runs under each profile."""
	services = document["services"]
	by_profile: dict[str, set[str]] = {}
	for name, service in services.items():
		for profile in service.get("profiles") or ["(none)"]:
			by_profile.setdefault(profile, set()).add(name)
	section = readme.split("### Profiles", 1)[1].split("\n\n", 2)[1]
	problems = []
	for row in section.splitlines()[2:]:
		cells = [cell.strip() for cell in row.strip("|").split("|")]
		profile = cells[0].strip("`")
		listed = set()
		for item in re.split(r",\s*", cells[1]):
			listed |= _expand(item.split(" (")[0].strip(), set(services))
		if profile not in by_profile:
			problems.append(f"README's Profiles table has profile {profile}, which compose.yaml does not")
			continue
		if listed != by_profile[profile]:
			problems.append(
				f"README's Profiles row {profile}: missing {sorted(by_profile[profile] - listed)}, "
				f"not in compose {sorted(listed - by_profile[profile])}"
			)
	return problems


def check_sizing_table(readme: str, sizes: dict[str, dict[str, str]], example: dict[str, str]) -> list[str]:
	"""The "Sizing" table quotes compose/sizes/*.env, and .env.example's defaults are "small"."""
	section = readme.split("### Sizing", 1)[1].split("\n\n|", 1)[1].split("\n\n", 1)[0]
	rows = ("|" + section).splitlines()
	columns = [cell.split(" (")[0].strip() for cell in rows[0].strip("|").split("|")[1:]]
	problems = []
	for row in rows[2:]:
		cells = [cell.strip() for cell in row.strip("|").split("|")]
		names = re.findall(r"`([A-Z0-9_]+)`", cells[0])
		for size, cell in zip(columns, cells[1:], strict=True):
			values = re.split(r"\s*(?:\u00d7|/|,)\s*", cell)
			for name, value in zip(names, values, strict=True):
				if sizes[size].get(name) != value:
					problems.append(
						f"README's Sizing table: {name} is {value} for {size}, sizes/{size}.env has {sizes[size].get(name)}"
					)
	problems.extend(
		f"compose/.env.example's {name}={example.get(name)} is not the small size's {value}"
		for name, value in sizes["small"].items()
		if example.get(name) != value
	)
	return problems


def check_all(repository: Path) -> list[str]:
	readme = (repository / "README.md").read_text()
	return [
		*check_dotted_paths(readme, repository),
		*check_settings_fields(readme, json.loads((repository / SETTINGS_JSON).read_text())),
		*check_repository_paths(readme, repository),
		*check_environment_names(readme, repository),
		*check_bench_commands(readme, bench_commands(repository / COMMANDS_PY)),
		*check_sso_routes(readme, repository),
		*check_profiles_table(readme, compose.load_raw(repository / "compose" / "compose.yaml")),
		*check_sizing_table(
			readme,
			{
				size: compose.parse_env_file((repository / "compose" / "sizes" / f"{size}.env").read_text())
				for size in ("small", "medium", "large")
			},
			compose.parse_env_file((repository / "compose" / ".env.example").read_text()),
		),
	]
