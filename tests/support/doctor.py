"""What the doctor's tests share: one check's result with its secrets proven scrubbed, and bad inputs."""

import secrets

from press_selfhost.setup.doctor import results_json, results_text, run_checks
from press_selfhost.setup.health import Check, CheckResult
from tests.support.processes import free_port


def only(check: Check, given_secrets) -> CheckResult:
	"""The check's result; asserts that no secret it was given reaches either output format."""
	[result] = run_checks([check], given_secrets)
	for output in (results_text([result]), results_json([result])):
		for secret in given_secrets:
			assert secret not in output
	return result


def wrong(what: str) -> str:
	return f"wrong-{what}-{secrets.token_hex(6)}"


def unused_url() -> str:
	"""A closed port on 127.0.0.1: connecting is refused."""
	return f"http://127.0.0.1:{free_port()}"
