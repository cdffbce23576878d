"""Lets `bench run-tests --app press_selfhost` run tests/frappe/.

Frappe discovers tests only inside the app package; ours live beside the package so that plain
pytest (CI, without Frappe) never imports them. unittest's load_tests protocol bridges the two.
"""

import sys
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
FRAPPE_TESTS = REPOSITORY / "tests" / "frappe"


def load_tests(loader, standard_tests, pattern):
	_make_our_tests_package_importable()
	return loader.discover(str(FRAPPE_TESTS), pattern="test_*.py", top_level_dir=str(FRAPPE_TESTS))


def _make_our_tests_package_importable() -> None:
	"""Frappe tests reuse tests/standins; some wheels in a bench ship a top-level "tests" package
	that would shadow ours."""
	if sys.path[:1] != [str(REPOSITORY)]:
		sys.path.insert(0, str(REPOSITORY))
	imported = sys.modules.get("tests")
	if imported is not None and Path(getattr(imported, "__file__", "") or "").parent != REPOSITORY / "tests":
		for name in [name for name in sys.modules if name == "tests" or name.startswith("tests.")]:
			del sys.modules[name]
