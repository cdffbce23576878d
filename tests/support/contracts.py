"""Where upstream's own contract artifacts are: Lago's OpenAPI spec and Press's Agent Job Type fixture.

They sit beside the repository in `shared/contracts/` (taken unchanged from upstream, see its README),
or where PRESS_SELFHOST_CONTRACTS points. A missing directory is an error, never a skipped check.
"""

import functools
import json
import os
from pathlib import Path

ENVIRONMENT_VARIABLE = "PRESS_SELFHOST_CONTRACTS"


@functools.cache
def contracts_dir() -> Path:
	configured = os.environ.get(ENVIRONMENT_VARIABLE)
	candidates = [Path(configured)] if configured else []
	candidates += [parent / "shared" / "contracts" for parent in Path(__file__).resolve().parents]
	for candidate in candidates:
		if (candidate / "lago-openapi.yaml").is_file():
			return candidate
	raise FileNotFoundError(
		f"upstream contracts not found: set {ENVIRONMENT_VARIABLE} to the directory holding "
		"lago-openapi.yaml and press-agent-job-types.json"
	)


@functools.cache
def press_agent_job_steps() -> dict[str, tuple[str, ...]]:
	"""Press's Agent Job Types: each job name with its step names, in Press's order."""
	job_types = json.loads((contracts_dir() / "press-agent-job-types.json").read_text())
	return {job["name"]: tuple(step["step_name"] for step in job["steps"]) for job in job_types}
