"""Reading compose/ the way Docker Compose does, without Docker: .env files, interpolation, profiles.

Interpolation follows the Compose specification: `$$` is a literal `$`; `$VAR` and `${VAR}`;
`${VAR:-default}` / `${VAR-default}` (default when unset or empty / when unset);
`${VAR:?error}` / `${VAR?error}` (fail when unset or empty / when unset);
`${VAR:+replacement}` / `${VAR+replacement}`; defaults and replacements may nest `${...}`.
Only values are interpolated, never mapping keys.
"""

import importlib.util
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

COMPOSE_DIR = Path(__file__).resolve().parents[2] / "compose"
COMPOSE_FILE = COMPOSE_DIR / "compose.yaml"
ENV_EXAMPLE = COMPOSE_DIR / ".env.example"

NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class InterpolationError(ValueError):
	"""A `${VAR:?message}` whose variable is unset (or empty), as Compose would refuse to start."""

	def __init__(self, variable: str, message: str):
		super().__init__(f"{variable}: {message}")
		self.variable = variable
		self.message = message


@dataclass
class Interpolator:
	environment: dict[str, str]
	unset: set[str] = field(default_factory=set)
	referenced: set[str] = field(default_factory=set)

	def interpolate(self, text: str) -> str:
		out = []
		index = 0
		while index < len(text):
			char = text[index]
			if char != "$":
				out.append(char)
				index += 1
				continue
			following = text[index + 1 : index + 2]
			if following == "$":
				out.append("$")
				index += 2
			elif following == "{":
				end = _closing_brace(text, index + 2)
				out.append(self._expression(text[index + 2 : end]))
				index = end + 1
			elif match := NAME.match(text, index + 1):
				out.append(self._lookup(match.group()) or "")
				index = match.end()
			else:
				out.append("$")
				index += 1
		return "".join(out)

	def _lookup(self, variable: str) -> str | None:
		self.referenced.add(variable)
		if variable not in self.environment:
			self.unset.add(variable)
			return None
		return self.environment[variable]

	def _expression(self, expression: str) -> str:
		match = NAME.match(expression)
		if not match:
			raise ValueError(f"invalid interpolation ${{{expression}}}")
		variable, rest = match.group(), expression[match.end() :]
		if not rest:
			return self._lookup(variable) or ""
		self.referenced.add(variable)
		is_set = variable in self.environment
		value = self.environment.get(variable, "")
		for operator in (":-", ":?", ":+", "-", "?", "+"):
			if rest.startswith(operator):
				argument = rest[len(operator) :]
				present = (is_set and value != "") if operator.startswith(":") else is_set
				kind = operator[-1]
				if kind == "-":
					return value if present else self.interpolate(argument)
				if kind == "?":
					if not present:
						raise InterpolationError(variable, self.interpolate(argument))
					return value
				return self.interpolate(argument) if present else ""
		raise ValueError(f"invalid interpolation ${{{expression}}}")


def _closing_brace(text: str, start: int) -> int:
	depth = 1
	for index in range(start, len(text)):
		if text.startswith("${", index):
			depth += 1
		elif text[index] == "}":
			depth -= 1
			if depth == 0:
				return index
	raise ValueError(f"unclosed ${{ in {text!r}")


def parse_env_file(text: str) -> dict[str, str]:
	"""Compose's .env syntax: KEY=VALUE, `export`, quotes, ` #` comments on unquoted values."""
	values: dict[str, str] = {}
	for raw in text.splitlines():
		line = raw.strip()
		if not line or line.startswith("#"):
			continue
		line = line.removeprefix("export ").strip()
		key, separator, value = line.partition("=")
		if not separator:
			raise ValueError(f"not KEY=VALUE: {raw!r}")
		key, value = key.strip(), value.strip()
		if value[:1] == "'" and value.endswith("'") and len(value) > 1:
			value = value[1:-1]
		elif value[:1] == '"' and value.endswith('"') and len(value) > 1:
			value = Interpolator(values).interpolate(value[1:-1].replace('\\"', '"').replace("\\n", "\n"))
		else:
			value = re.split(r"\s+#", value, maxsplit=1)[0].strip()
			value = Interpolator(values).interpolate(value)
		values[key] = value
	return values


def interpolate(node, interpolator: Interpolator):
	"""A copy of a parsed YAML tree with every string value interpolated (keys untouched)."""
	if isinstance(node, dict):
		return {key: interpolate(value, interpolator) for key, value in node.items()}
	if isinstance(node, list):
		return [interpolate(item, interpolator) for item in node]
	if isinstance(node, str):
		return interpolator.interpolate(node)
	return node


def load_raw(path: Path = COMPOSE_FILE) -> dict:
	"""compose.yaml parsed (anchors and merge keys resolved), not yet interpolated."""
	return yaml.safe_load(path.read_text())


def env_example() -> dict[str, str]:
	return parse_env_file(ENV_EXAMPLE.read_text())


def active_services(document: dict, profiles: set[str]) -> dict:
	"""The services Compose starts with these profiles: those without profiles, and the matching ones."""
	return {
		name: service
		for name, service in document["services"].items()
		if not service.get("profiles") or profiles & set(service["profiles"])
	}


def for_profiles(document: dict, profiles: set[str]) -> dict:
	"""The document as Compose sees it with `profiles` enabled (inactive services dropped)."""
	return {**document, "services": active_services(document, profiles)}


def all_profiles(document: dict) -> set[str]:
	return {profile for service in document["services"].values() for profile in service.get("profiles", [])}


def load_init_secrets():
	"""compose/init_secrets.py, loaded by path: compose/ is not a package (it runs with a bare host python3)."""
	spec = importlib.util.spec_from_file_location("init_secrets", COMPOSE_DIR / "init_secrets.py")
	module = importlib.util.module_from_spec(spec)
	spec.loader.exec_module(module)
	return module
