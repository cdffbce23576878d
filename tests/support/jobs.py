"""Functions that RQ workers run in the harness tests (a worker imports them by dotted path)."""


def add(first: int, second: int) -> int:
	return first + second
