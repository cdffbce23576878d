"""Errors of our own, so that the Frappe shell and the jobs can tell what happened and what to do.

Every message is written for an admin: it says which system, what went wrong and, where we know,
what to change. No message ever carries a secret.
"""


class PressSelfhostError(Exception):
	"""Base of every error raised by press_selfhost."""


class ConfigurationError(PressSelfhostError):
	"""A setting is missing or invalid; the admin fixes it in Selfhost Settings or compose/.env."""


class WebhookVerificationError(PressSelfhostError):
	"""A webhook was refused: unsigned, forged, malformed or otherwise doubtful. Answer 4xx, store nothing."""

	def __init__(self, reason: str):
		super().__init__(reason)
		self.reason = reason


class ServiceError(PressSelfhostError):
	"""A call to an external system failed.

	`retryable` tells the job runner whether trying again later can succeed (network error, 5xx,
	429) or whether the request itself is wrong and must not be repeated as is (other 4xx).
	"""

	def __init__(
		self,
		service: str,
		message: str,
		*,
		retryable: bool,
		status_code: int | None = None,
		code: str | None = None,
	):
		details = ", ".join(
			part
			for part in (f"HTTP {status_code}" if status_code else "", f"code {code}" if code else "")
			if part
		)
		super().__init__(f"{service}: {message}" + (f" ({details})" if details else ""))
		self.service = service
		self.retryable = retryable
		self.status_code = status_code
		self.code = code


class ServiceUnavailableError(ServiceError):
	"""The system could not be reached or answered 5xx/429: retry with backoff."""

	def __init__(
		self, service: str, message: str, *, status_code: int | None = None, code: str | None = None
	):
		super().__init__(service, message, retryable=True, status_code=status_code, code=code)


class ServiceRejectedError(ServiceError):
	"""The system refused the request (4xx): retrying the same request will not help."""

	def __init__(
		self, service: str, message: str, *, status_code: int | None = None, code: str | None = None
	):
		super().__init__(service, message, retryable=False, status_code=status_code, code=code)


class AgentJobFailedError(ServiceRejectedError):
	"""A stock Agent job ended in Failure; carries the failed step, command and its output (redacted)."""

	def __init__(self, job_id: int | None, job_name: str, step: str | None, command: str | None, output: str):
		what = f"job {job_id} ({job_name})" if job_id is not None else f"request {job_name}"
		where = f" at step '{step}'" if step else ""
		ran = f": `{command}`" if command else ""
		tail = output.strip().splitlines()[-5:]
		super().__init__(
			"Agent",
			f"{what} failed{where}{ran}" + ("\n" + "\n".join(tail) if tail else ""),
		)
		self.job_id = job_id
		self.job_name = job_name
		self.step = step
		self.command = command
		self.output = output


class BackupIntegrityError(PressSelfhostError):
	"""A backup failed verification (tampered, truncated, wrong key or site): never restore it."""


class RestoreLinkRefusedError(PressSelfhostError):
	"""A restore download link is forged, altered or expired: answer 403 and serve nothing."""


class AuthenticationError(PressSelfhostError):
	"""A login, token or logout notice from the identity provider was refused: the user starts over.

	`reason` says what failed (for the log); the browser only ever sees a generic message.
	"""

	def __init__(self, reason: str):
		super().__init__(reason)
		self.reason = reason


class CustomerFacingError(PressSelfhostError):
	"""A refusal a dashboard user may read as is: no internals, no secrets.

	`http_status` is the answer's status: 404 (nothing of yours by that name), 409 (billing not set up
	for your team yet), 503 (the billing system is unreachable: try again later).
	"""

	def __init__(self, message: str, http_status: int):
		super().__init__(message)
		self.message = message
		self.http_status = http_status
