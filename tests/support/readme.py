"""Static checks of the documentation's claims about this repository (issue 6: a reader follows it
without guessing; issue 13: README.md and every page under docs/). Each check reads one page's text
and the repository's files, imports nothing of ours, and returns a list of problems saying what the
page says and why it no longer holds; check_all names the page in front of each.
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
REPOSITORY_FOLDERS = ("press_selfhost/", "tests/", "compose/", "bench/", "dev/", "tenant/", ".ci/", "docs/")
GENERATED_PATHS = frozenset({"compose/.env"})

_BACKTICKED = re.compile(r"`([^`\n]+)`")
_DOTTED = re.compile(r"\bpress_selfhost(?:\.[A-Za-z_]\w*)+")
_COMMAND = re.compile(r"press-selfhost ([a-z][a-z-]*)((?:[ \t]+\[?--[a-z-]+\]?)*)")
_FENCE = re.compile(r"^```.*?^```[ \t]*$", re.MULTILINE | re.DOTALL)
_HEADING = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$", re.MULTILINE)
_LINK = re.compile(r"\[[^\]\n]*\]\(([^)\s]+)(?:[ \t]+\"[^\"]*\")?\)")
_URL_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)


def documents(repository: Path) -> list[Path]:
	"""README.md and every Markdown page under docs/, the documentation the checks hold to the code."""
	return [repository / "README.md", *sorted((repository / "docs").rglob("*.md"))]


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
			problems.append(f"names {dotted}, but module {module} does not exist")
		elif attribute not in _top_level_names(ast.parse(source.read_text())):
			problems.append(f"names {dotted}, but {module} defines no {attribute}")
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
			problems.append(f"names the setting `{name}`, which Selfhost Settings does not have")
	for match in re.finditer(r"Selfhost Settings\s+→\s+(`[a-z0-9_]+`|[A-Z][\w-]*(?: [A-Z][\w-]*)*)", readme):
		named = match.group(1)
		if named.strip("`") not in fieldnames and named not in labels:
			problems.append(f"says 'Selfhost Settings → {named}', which is no field or section")
	return problems


def check_repository_paths(readme: str, repository: Path) -> list[str]:
	"""Every backticked path into this repository's own folders exists."""
	problems = []
	for text in sorted(set(backticked(readme))):
		path = text.split()[0] if text.split() else text
		if not path.startswith(REPOSITORY_FOLDERS) or path in GENERATED_PATHS or "<" in path:
			continue
		if not (repository / path).exists():
			problems.append(f"names {path}, which does not exist")
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
		f"names {name}, which nothing in compose/, press_selfhost/ or tests/ uses"
		for name in sorted(names)
		if not re.search(rf"\b{name}\b", text)
	]


def check_sso_routes(readme: str, repository: Path) -> list[str]:
	"""Every `/auth/keycloak/<page>` is a www page of press_selfhost and of the tenant app."""
	problems = []
	for page in sorted(set(re.findall(r"/auth/keycloak/(\w+)", readme))):
		for app in ("press_selfhost", "tenant/press_selfhost_tenant"):
			if not (repository / app / "www" / "auth" / "keycloak" / f"{page}.py").exists():
				problems.append(f"names /auth/keycloak/{page}, which {app} does not serve")
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
	"""Every `press-selfhost <command> [--option]` the page shows exists with that option."""
	problems = []
	for match in _COMMAND.finditer(readme):
		command, options = match.group(1), re.findall(r"--[a-z-]+", match.group(2))
		if command not in commands:
			problems.append(f"runs `press-selfhost {command}`, which commands.py does not define")
			continue
		problems.extend(
			f"runs `press-selfhost {command} {option}`, an option it does not have"
			for option in options
			if option not in commands[command]
		)
	return problems


def _expand(service: str, names: set[str]) -> set[str]:
	"""`redis-sentinel-1..3` and `press-*` as the documentation writes groups of services."""
	if match := re.fullmatch(r"(.+-)(\d+)\.\.(\d+)", service):
		return {f"{match.group(1)}{number}" for number in range(int(match.group(2)), int(match.group(3)) + 1)}
	if service.endswith("*"):
		return {name for name in names if name.startswith(service[:-1])}
	return {service}


def _after_heading(page: str, title: str) -> str | None:
	"""The page's text after its heading `title` (at any level, outside code blocks), or None."""
	fences = [match.span() for match in _FENCE.finditer(page)]
	for match in re.finditer(rf"^#{{1,6}}[ \t]+{re.escape(title)}[ \t]*$", page, re.MULTILINE):
		if not any(start <= match.start() < end for start, end in fences):
			return page[match.end() :]
	return None


def check_profiles_table(page: str, document: dict) -> list[str]:
	"""The "Profiles" table lists exactly the services compose.yaml runs under each profile."""
	services = document["services"]
	by_profile: dict[str, set[str]] = {}
	for name, service in services.items():
		for profile in service.get("profiles") or ["(none)"]:
			by_profile.setdefault(profile, set()).add(name)
	section = _after_heading(page, "Profiles").split("\n\n", 2)[1]
	problems = []
	for row in section.splitlines()[2:]:
		cells = [cell.strip() for cell in row.strip("|").split("|")]
		profile = cells[0].strip("`")
		listed = set()
		for item in re.split(r",\s*", cells[1]):
			listed |= _expand(item.split(" (")[0].strip(), set(services))
		if profile not in by_profile:
			problems.append(f"Profiles table has profile {profile}, which compose.yaml does not")
			continue
		if listed != by_profile[profile]:
			problems.append(
				f"Profiles row {profile}: missing {sorted(by_profile[profile] - listed)}, "
				f"not in compose {sorted(listed - by_profile[profile])}"
			)
	return problems


def check_sizing_table(page: str, sizes: dict[str, dict[str, str]], example: dict[str, str]) -> list[str]:
	"""The "Sizing" table quotes compose/sizes/*.env, and .env.example's defaults are "small"."""
	section = _after_heading(page, "Sizing").split("\n\n|", 1)[1].split("\n\n", 1)[0]
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
						f"Sizing table: {name} is {value} for {size}, sizes/{size}.env has {sizes[size].get(name)}"
					)
	problems.extend(
		f"compose/.env.example's {name}={example.get(name)} is not the small size's {value}"
		for name, value in sizes["small"].items()
		if example.get(name) != value
	)
	return problems


def check_tables(pages: dict[str, str], document: dict, sizes: dict, example: dict) -> list[str]:
	"""The Profiles and Sizing tables are checked in whichever page holds them; a page must hold each."""
	problems = []
	for title, check in (
		("Profiles", lambda page: check_profiles_table(page, document)),
		("Sizing", lambda page: check_sizing_table(page, sizes, example)),
	):
		holders = [name for name, page in pages.items() if _after_heading(page, title) is not None]
		if not holders:
			problems.append(f"no page has a {title} heading, so its table against compose/ goes unchecked")
		problems.extend(f"{name}: {problem}" for name in holders for problem in check(pages[name]))
	return problems


def heading_anchors(page: str) -> set[str]:
	"""The anchors GitHub gives the page's headings: lower case, punctuation dropped, spaces as hyphens."""
	anchors: set[str] = set()
	for _, title in _HEADING.findall(_FENCE.sub("", page)):
		slug = re.sub(r"[^\w\- ]", "", title.strip().lower()).replace(" ", "-")
		anchor, number = slug, 0
		while anchor in anchors:
			number += 1
			anchor = f"{slug}-{number}"
		anchors.add(anchor)
	return anchors


def relative_links(page: str) -> list[str]:
	"""Targets of the page's Markdown links that are not URLs, outside code blocks and code spans."""
	prose = _BACKTICKED.sub("", _FENCE.sub("", page))
	return [target for target in _LINK.findall(prose) if not _URL_SCHEME.match(target)]


def check_links(page_path: Path, page: str, repository: Path) -> list[str]:
	"""Every relative link leads to a file or folder of the repository and, with #anchor, to a heading."""
	problems = []
	for target in relative_links(page):
		path_part, _, anchor = target.partition("#")
		resolved = (page_path.parent / path_part).resolve() if path_part else page_path.resolve()
		if not resolved.is_relative_to(repository.resolve()):
			continue  # notes kept outside the repository (the shared DESIGN.md): not ours to hold
		if not resolved.exists():
			problems.append(f"links to {target}, which does not exist")
		elif anchor and resolved.suffix == ".md" and anchor not in heading_anchors(resolved.read_text()):
			problems.append(f"links to {target}, but {resolved.name} has no heading with anchor #{anchor}")
	return problems


def check_every_page_is_linked(repository: Path) -> list[str]:
	"""Every page under docs/ is linked from README.md or another page: a page no one reaches goes stale."""
	linked = set()
	for page_path in documents(repository):
		for target in relative_links(page_path.read_text()):
			if path_part := target.partition("#")[0]:
				linked.add((page_path.parent / path_part).resolve())
	return [
		f"{page_path.relative_to(repository)}: no other page links to it"
		for page_path in documents(repository)[1:]
		if page_path.resolve() not in linked
	]


def check_all(repository: Path) -> list[str]:
	"""Every check on every page, each problem prefixed with the page it is in."""
	settings = json.loads((repository / SETTINGS_JSON).read_text())
	commands = bench_commands(repository / COMMANDS_PY)
	pages = {str(path.relative_to(repository)): path.read_text() for path in documents(repository)}
	problems = []
	for name, page in pages.items():
		problems.extend(
			f"{name}: {problem}"
			for problem in (
				*check_dotted_paths(page, repository),
				*check_settings_fields(page, settings),
				*check_repository_paths(page, repository),
				*check_environment_names(page, repository),
				*check_bench_commands(page, commands),
				*check_sso_routes(page, repository),
				*check_links(repository / name, page, repository),
			)
		)
	return [
		*problems,
		*check_every_page_is_linked(repository),
		*check_tables(
			pages,
			compose.load_raw(repository / "compose" / "compose.yaml"),
			{
				size: compose.parse_env_file((repository / "compose" / "sizes" / f"{size}.env").read_text())
				for size in ("small", "medium", "large")
			},
			compose.parse_env_file((repository / "compose" / ".env.example").read_text()),
		),
	]
