"""Lago's published OpenAPI spec (1.51.0) as a check on both sides of every call to the Lago stand-in.

Every request LagoGateway sends is validated against the operation's parameters, security and request
body; every answer the stand-in gives against the operation's response for its status. The spec's
own defects (the three of shared/contracts/README.md, and a null `file_url` lago-api sends before an
invoice's PDF exists) are named exceptions, not silent leniency: nothing else is excused.
"""

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass

import yaml
from jsonschema.exceptions import ValidationError
from openapi_core import Config, OpenAPI
from openapi_core.testing import MockRequest, MockResponse

from tests.support.contracts import contracts_dir

# The spec's servers end in /api/v1, as the stand-in's paths begin: the stand-in's path is used as is.
SPEC_HOST = "https://api.getlago.com"


@dataclass(frozen=True)
class SpecDefect:
	"""A place where the spec contradicts what lago-api really accepts or answers."""

	name: str
	why: str
	excuses: Callable[[str, str, ValidationError], bool]


def _ending_at_required_on_update(method: str, path: str, error: ValidationError) -> bool:
	return (
		method == "PUT"
		and re.fullmatch(r"/api/v1/subscriptions/[^/]+", path) is not None
		and error.validator == "required"
		and list(error.absolute_path) == ["subscription"]
		and "'ending_at'" in error.message
	)


def _integer_matches_number_and_integer(method: str, path: str, error: ValidationError) -> bool:
	types = {schema.get("type") for schema in error.validator_value or () if isinstance(schema, dict)}
	return (
		error.validator == "oneOf"
		and isinstance(error.instance, int)
		and not isinstance(error.instance, bool)
		and {"integer", "number"} <= types
	)


def _no_pdf_yet(method: str, path: str, error: ValidationError) -> bool:
	location = list(error.absolute_path)
	return error.validator == "type" and error.instance is None and location[-1:] == ["file_url"]


PUT_SUBSCRIPTION_ENDING_AT_REQUIRED = SpecDefect(
	"PUT /subscriptions/{external_id}: ending_at required",
	"the spec requires subscription.ending_at; lago-api's update permits it and needs none of it",
	_ending_at_required_on_update,
)
ONE_OF_NUMBER_AND_INTEGER = SpecDefect(
	"oneOf(string, integer, number) matched twice by an integer",
	"an integer is also a number, so every integer event property fails a strict oneOf",
	_integer_matches_number_and_integer,
)
INVOICE_FILE_URL_NULL_UNTIL_PDF = SpecDefect(
	"invoice file_url null until its PDF exists",
	"V1::InvoiceSerializer gives `file_url: model.file_url`, null before the PDF; the spec says string",
	_no_pdf_yet,
)
PDF_QUEUED_EMPTY_200 = "POST /invoices/{lago_id}/download: empty 200 while the PDF is queued"
_DOWNLOAD = re.compile(r"/api/v1/invoices/[^/]+/download")
KNOWN_SPEC_DEFECTS = (
	PUT_SUBSCRIPTION_ENDING_AT_REQUIRED,
	ONE_OF_NUMBER_AND_INTEGER,
	INVOICE_FILE_URL_NULL_UNTIL_PDF,
)


@functools.cache
def lago_spec() -> OpenAPI:
	"""The spec, parsed once per session (about 3 s); its own validation is skipped (20 s, and upstream's)."""
	with open(contracts_dir() / "lago-openapi.yaml", "rb") as spec_file:
		document = yaml.load(spec_file, Loader=yaml.CSafeLoader)  # libyaml: 3 s rather than 30
	return OpenAPI.from_dict(document, config=Config(spec_validator_cls=None))


def _mock_request(method: str, path: str, query: dict, headers, body: bytes) -> MockRequest:
	return MockRequest(
		SPEC_HOST,
		method.lower(),
		path,
		args={name: values[-1] for name, values in query.items()},
		headers=dict(headers.items()),
		data=body or None,
		content_type=(headers.get("Content-Type") or "application/json").split(";")[0],
	)


def request_violations(method: str, path: str, query: dict, headers, body: bytes) -> list[str]:
	"""What in this request Lago's spec does not allow (empty when it conforms)."""
	request = _mock_request(method, path, query, headers, body)
	return _describe(method, path, "request", lago_spec().unmarshal_request(request).errors)


def response_violations(
	method: str, path: str, query: dict, headers, body: bytes, status: int, content_type: str, answer: bytes
) -> list[str]:
	"""What in this answer (to this request) Lago's spec does not allow (empty when it conforms)."""
	if status >= 500:
		return []  # an outage the test simulates: the spec describes the API's answers, not its crashes
	if method == "POST" and _DOWNLOAD.fullmatch(path) and status == 200 and not answer:
		return []  # PDF_QUEUED_EMPTY_200: lago-api answers `head(:ok)` until the PDF exists
	request = _mock_request(method, path, query, headers, body)
	response = MockResponse(answer, status_code=status, content_type=content_type.split(";")[0])
	return _describe(
		method, path, f"{status} answer", lago_spec().unmarshal_response(request, response).errors
	)


def _describe(method: str, path: str, side: str, errors) -> list[str]:
	violations = []
	for error in errors:
		schema_errors = getattr(error.__cause__, "schema_errors", None)
		if not schema_errors:
			violations.append(f"{method} {path} {side}: {error}")
			continue
		for schema_error in _leaves(schema_errors):
			if any(defect.excuses(method, path, schema_error) for defect in KNOWN_SPEC_DEFECTS):
				continue
			where = "/".join(str(part) for part in schema_error.absolute_path)
			violations.append(
				f"{method} {path} {side}{' at ' + where if where else ''}: {schema_error.message}"
			)
	return violations


def _leaves(errors) -> list[ValidationError]:
	"""allOf/anyOf failures carry the real reasons in their context; report those."""
	found = []
	for error in errors:
		if error.validator in ("allOf", "anyOf") and error.context:
			found += _leaves(error.context)
		else:
			found.append(error)
	return found
