"""Lets `bench run-tests --app press_selfhost` run tests/frappe/.

Frappe discovers tests only inside the app package; ours live beside the package so that plain
pytest (CI, without Frappe) never imports them. unittest's load_tests protocol bridges the two.
"""

from pathlib import Path

FRAPPE_TESTS = Path(__file__).resolve().parent.parent / "tests" / "frappe"


def load_tests(loader, standard_tests, pattern):
	return loader.discover(str(FRAPPE_TESTS), pattern="test_*.py", top_level_dir=str(FRAPPE_TESTS))
