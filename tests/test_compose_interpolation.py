"""The test support's reading of Compose interpolation and .env files, against the specification."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.support.compose import InterpolationError, Interpolator, parse_env_file

ENVIRONMENT = {"SET": "value", "EMPTY": "", "OTHER": "other"}

CASES = [
	("${SET}", "value"),
	("$SET", "value"),
	("$SET-suffix", "value-suffix"),
	("${UNSET}", ""),
	("${SET:-default}", "value"),
	("${EMPTY:-default}", "default"),
	("${UNSET:-default}", "default"),
	("${EMPTY-default}", ""),
	("${UNSET-default}", "default"),
	("${SET:+replacement}", "replacement"),
	("${EMPTY:+replacement}", ""),
	("${EMPTY+replacement}", "replacement"),
	("${UNSET+replacement}", ""),
	("${UNSET:-${OTHER}}", "other"),
	("${UNSET:-${ALSO_UNSET:-deep}}", "deep"),
	("${EMPTY?error}", ""),
	("$${SET}", "${SET}"),
	("$$SET", "$SET"),
	("cost: 5$", "cost: 5$"),
	("a ${SET} and ${OTHER}", "a value and other"),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_interpolation_follows_the_specification(text, expected):
	assert Interpolator(dict(ENVIRONMENT)).interpolate(text) == expected


@pytest.mark.parametrize(
	("text", "variable"),
	[("${UNSET:?say why}", "UNSET"), ("${EMPTY:?say why}", "EMPTY"), ("${UNSET?say why}", "UNSET")],
)
def test_required_variables_stop_interpolation(text, variable):
	with pytest.raises(InterpolationError) as raised:
		Interpolator(dict(ENVIRONMENT)).interpolate(text)
	assert (raised.value.variable, raised.value.message) == (variable, "say why")


def test_unset_variables_are_recorded():
	interpolator = Interpolator(dict(ENVIRONMENT))
	interpolator.interpolate("${UNSET} ${SET} ${DEFAULTED:-x} $BARE")
	assert interpolator.unset == {"UNSET", "BARE"}
	assert interpolator.referenced == {"UNSET", "SET", "DEFAULTED", "BARE"}


def test_unclosed_braces_are_an_error():
	with pytest.raises(ValueError, match="unclosed"):
		Interpolator({}).interpolate("${SET")


@given(st.text().filter(lambda text: "$" not in text))
def test_text_without_dollar_is_unchanged(text):
	assert Interpolator({}).interpolate(text) == text


@given(st.text())
def test_values_are_inserted_verbatim(value):
	assert Interpolator({"X": value}).interpolate("<${X}>") == f"<{value}>"


def test_env_file_syntax():
	text = "\n".join(
		[
			"# comment",
			"",
			"PLAIN=value",
			"SPACED = padded ",
			"COMMENTED=value # note",
			"HASH=a#b",
			"export EXPORTED=yes",
			"SINGLE='${PLAIN} kept'",
			'DOUBLE="${PLAIN} used"',
			"REFERENCE=${PLAIN}-x",
			"EMPTY=",
		]
	)
	assert parse_env_file(text) == {
		"PLAIN": "value",
		"SPACED": "padded",
		"COMMENTED": "value",
		"HASH": "a#b",
		"EXPORTED": "yes",
		"SINGLE": "${PLAIN} kept",
		"DOUBLE": "value used",
		"REFERENCE": "value-x",
		"EMPTY": "",
	}
