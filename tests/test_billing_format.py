"""Amounts, dates and periods as the customer mails show them."""

from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from press_selfhost.billing.format import (
	describe_period,
	format_date,
	format_money,
	format_month,
	format_period,
)


@pytest.mark.parametrize(
	("minor_units", "currency", "expected"),
	[
		(1250, "EUR", "EUR 12.50"),
		(1200, "eur", "EUR 12.00"),
		(5, "USD", "USD 0.05"),
		(0, "GBP", "GBP 0.00"),
		(123456789, "USD", "USD 1,234,567.89"),
		(1234500, "JPY", "JPY 1,234,500"),
		(12345, "KWD", "KWD 12.345"),
		(-250, "EUR", "-EUR 2.50"),
	],
)
def test_money_in_the_currencys_own_minor_unit(minor_units, currency, expected):
	assert format_money(minor_units, currency) == expected


@given(st.integers(min_value=-(10**15), max_value=10**15), st.sampled_from(["EUR", "JPY", "KWD", "INR"]))
def test_money_text_says_exactly_the_amount(minor_units, currency):
	text = format_money(minor_units, currency)
	sign, _, number = text.partition(currency + " ")
	assert sign in ("", "-")
	decimals = {"JPY": 0, "KWD": 3}.get(currency, 2)
	value = Decimal(number.replace(",", "")) * (-1 if sign else 1)
	assert value == Decimal(minor_units).scaleb(-decimals)


def test_dates_and_months_whatever_form_lago_sends():
	assert format_date("2026-11-04T10:00:00Z") == "4 November 2026"
	assert format_date(date(2026, 1, 31)) == "31 January 2026"
	assert format_date(datetime(2026, 12, 1, 23, 0, tzinfo=timezone.utc)) == "1 December 2026"
	assert format_month("2026-11-01") == "November 2026"


def test_periods_say_a_month_once():
	assert format_period("2026-11-01T00:00:00Z", "2026-11-30T23:59:59Z") == "1 to 30 November 2026"
	assert format_period("2026-10-15", "2026-11-14") == "15 October to 14 November 2026"
	assert format_period("2026-12-15", "2027-01-14") == "15 December 2026 to 14 January 2027"
	assert format_period("2026-11-04", "2026-11-04") == "4 November 2026"


def test_a_period_falls_back_to_the_issuing_month_and_bad_dates_count_as_missing():
	assert describe_period(("2026-11-01", "2026-11-30"), "2026-12-01") == "1 to 30 November 2026"
	assert describe_period(None, "2026-12-01") == "December 2026"
	assert describe_period(None, None) is None
	assert describe_period(("yesterday", "today"), None) is None
	assert describe_period(None, "2026-13-01") is None
