"""compose/sizes/*.env: the three documented sizes, each a valid overlay of compose/.env."""

import re

import pytest

from tests.support.compose import (
	COMPOSE_DIR,
	Interpolator,
	env_example,
	interpolate,
	load_raw,
	parse_env_file,
)

SIZES = ["small", "medium", "large"]
UNITS = {"": 1, "b": 1, "k": 2**10, "m": 2**20, "g": 2**30}


def size_settings(size: str) -> dict[str, str]:
	return parse_env_file((COMPOSE_DIR / "sizes" / f"{size}.env").read_text())


def magnitude(value: str) -> float:
	"""`1536m`, `6G`, `2gb` or a plain count, as one number to compare sizes by."""
	number, unit = re.fullmatch(r"(\d+)([kmg]?)b?", value.lower()).groups()
	return int(number) * UNITS[unit]


def test_sizes_set_the_same_settings_all_named_in_env_example():
	keys = [set(size_settings(size)) for size in SIZES]
	assert keys[0] == keys[1] == keys[2]
	assert keys[0] <= set(env_example())


def test_small_is_the_env_example_default():
	example = env_example()
	assert {key: example[key] for key in size_settings("small")} == size_settings("small")


@pytest.mark.parametrize(("smaller", "larger"), [("small", "medium"), ("medium", "large")])
def test_each_size_grows_every_setting(smaller, larger):
	small, large = size_settings(smaller), size_settings(larger)
	assert [key for key in small if magnitude(large[key]) <= magnitude(small[key])] == []


@pytest.mark.parametrize("size", SIZES)
def test_every_sizing_setting_reaches_compose(size):
	"""Each value lands in the interpolated file: no size setting is dead."""
	secrets = {key: "x" for key, value in env_example().items() if value == ""}
	interpolator = Interpolator({**env_example(), **secrets, **size_settings(size)})
	document = interpolate(load_raw(), interpolator)
	assert interpolator.unset == set()
	assert set(size_settings(size)) <= interpolator.referenced
	assert (
		document["services"]["press-worker"]["deploy"]["replicas"]
		== size_settings(size)["PRESS_WORKER_REPLICAS"]
	)
