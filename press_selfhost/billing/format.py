"""Amounts, dates and billing periods as the customer mails show them ("EUR 12.50", "4 November 2026").

Framework-free and locale-free: Lago gives amounts in the currency's minor unit and dates as ISO
strings; a mail needs neither cents nor timestamps.
"""

from datetime import date, datetime

# ISO 4217 currencies whose minor unit is not a hundredth; every other currency has two decimals.
_DECIMALS = {
	**dict.fromkeys(
		[
			"BIF",
			"CLP",
			"DJF",
			"GNF",
			"ISK",
			"JPY",
			"KMF",
			"KRW",
			"PYG",
			"RWF",
			"UGX",
			"VND",
			"VUV",
			"XAF",
			"XOF",
			"XPF",
		],
		0,
	),
	**dict.fromkeys(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"], 3),
}


_MONTHS = (
	"January",
	"February",
	"March",
	"April",
	"May",
	"June",
	"July",
	"August",
	"September",
	"October",
	"November",
	"December",
)


def format_money(minor_units: int, currency: str) -> str:
	"""`1250, "EUR"` → "EUR 12.50"; `1234500, "JPY"` → "JPY 1,234,500"."""
	code = currency.upper()
	decimals = _DECIMALS.get(code, 2)
	whole, fraction = divmod(abs(minor_units), 10**decimals)
	sign = "-" if minor_units < 0 else ""
	digits = f".{fraction:0{decimals}d}" if decimals else ""
	return f"{sign}{code} {whole:,}{digits}"


def to_date(value: str | date | datetime) -> date:
	"""A date from a date, a datetime or an ISO string (Lago's "2026-11-30T23:59:59Z" or "2026-11-30")."""
	if isinstance(value, datetime):
		return value.date()
	if isinstance(value, date):
		return value
	return date.fromisoformat(value[:10])


def format_date(value: str | date | datetime) -> str:
	"""→ "4 November 2026"."""
	day = to_date(value)
	return f"{day.day} {format_month(day)}"


def format_period(start: str | date | datetime, end: str | date | datetime) -> str:
	"""→ "1 to 30 November 2026", "15 October to 14 November 2026", "15 December 2026 to 14 January 2027"."""
	first, last = to_date(start), to_date(end)
	if (first.year, first.month) == (last.year, last.month):
		return f"{first.day} to {last.day} {format_month(last)}" if first != last else format_date(first)
	if first.year == last.year:
		return f"{first.day} {_MONTHS[first.month - 1]} to {format_date(last)}"
	return f"{format_date(first)} to {format_date(last)}"


def format_month(value: str | date | datetime) -> str:
	"""→ "November 2026"."""
	day = to_date(value)
	return f"{_MONTHS[day.month - 1]} {day.year}"


def describe_period(period: tuple[str, str] | None, issuing_date: str | None) -> str | None:
	"""What an invoice bills: its billing period, else the month it was issued in (a one-off invoice),
	else None; a date Lago sent in an unknown form counts as missing."""
	try:
		if period:
			return format_period(*period)
		return format_month(issuing_date) if issuing_date else None
	except ValueError:
		return None
