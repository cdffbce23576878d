"""The Agent stand-in and our proxy agent report only jobs and steps that Press knows.

Press matches an Agent's job by name and its steps by name against its Agent Job Type records
(press/fixtures/agent_job_type.json); a name it does not know leaves its job's steps unmatched.
"""

import pytest

from press_selfhost.routing.proxy_agent.app import PROXY_JOBS
from tests.standins.agent import JOB_ROUTES
from tests.support.contracts import press_agent_job_steps

JOBS = [("Agent stand-in", name, steps) for _method, _path, name, steps in JOB_ROUTES] + [
	("proxy agent", name, steps) for _method, _path, name, _required, steps in PROXY_JOBS
]


def _in_order(steps: tuple[str, ...], press_steps: tuple[str, ...]) -> bool:
	remaining = iter(press_steps)
	return all(step in remaining for step in steps)


@pytest.mark.parametrize(("reporter", "job", "steps"), JOBS, ids=[f"{r}: {j}" for r, j, _ in JOBS])
def test_every_job_and_step_is_one_press_knows_in_its_order(reporter, job, steps):
	press = press_agent_job_steps()
	assert job in press, f"{reporter} reports job {job!r}, which Press has no Agent Job Type for"
	unknown = [step for step in steps if step not in press[job]]
	assert not unknown, f"{reporter}: Press's {job!r} has no steps {unknown}; it has {press[job]}"
	assert _in_order(steps, press[job]), f"{reporter}: {job!r} steps {steps} are not in Press's order"


def test_the_fixture_is_presss_own():
	press = press_agent_job_steps()
	assert len(press) > 100
	assert press["Add Site to Upstream"] == ("Add Site File to Upstream Directory", "Reload NGINX")
