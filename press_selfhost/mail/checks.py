"""The doctor's checks of mail: Postal's API key, its SMTP login, a real test message, and that
Postal's webhook deliveries reach press_selfhost through Press's auth hook. Framework-free."""

import smtplib
from email.message import EmailMessage
from email.utils import make_msgid

from press_selfhost.errors import ServiceError, ServiceRejectedError
from press_selfhost.mail.postal import PostalClient
from press_selfhost.setup.health import Check, CheckFailed, guest_webhook_probe

# hooks.py gives press_selfhost.api.postal.webhook this name: Press's auth hook lets Guests reach press.api.*.
POSTAL_WEBHOOK_METHOD = "press.api.selfhost_postal.webhook"


def smtp_login_check(
	host: str, port: int, username: str, password: str, *, use_tls: bool = False, timeout: float = 5.0
) -> Check:
	"""Frappe sends Press's own mail through Postal's SMTP with these credentials."""
	where = f"{host}:{port}"

	def probe() -> str:
		try:
			with smtplib.SMTP(host, port, timeout=timeout) as smtp:
				smtp.ehlo()
				if use_tls:
					smtp.starttls()
					smtp.ehlo()
				if username or password:
					smtp.login(username, password)
		except smtplib.SMTPAuthenticationError as error:
			raise CheckFailed(
				f"SMTP at {where} refused the login for '{username}' ({error.smtp_code})",
				"Copy the SMTP credential from Postal into postal_smtp_username/postal_smtp_password.",
			) from None
		except (OSError, smtplib.SMTPException) as error:
			raise CheckFailed(
				f"SMTP at {where} is unreachable or broke off ({type(error).__name__})",
				"Start Postal's SMTP server and check postal_smtp_host and postal_smtp_port.",
			) from None
		return f"logged in to {where} as '{username}'" if username else f"{where} answers"

	return Check("Postal SMTP login", probe, timeout=timeout * 3)


def outgoing_mail_check(
	host: str,
	port: int,
	username: str,
	password: str,
	sender: str,
	recipient: str,
	*,
	use_tls: bool = False,
	timeout: float = 5.0,
) -> Check:
	"""Sends a real test message through Postal's SMTP: a login alone does not prove mail leaves.

	Only run on request (`doctor --send-test-mail`), so the admin is not mailed by every run.
	"""
	where = f"{host}:{port}"

	def probe() -> str:
		message = EmailMessage()
		message["From"] = sender
		message["To"] = recipient
		message["Subject"] = "press_selfhost doctor: test message"
		message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
		message.set_content(
			"This message was sent by `press-selfhost doctor --send-test-mail` to prove that "
			"Press's outgoing mail leaves through Postal. No action is needed."
		)
		try:
			with smtplib.SMTP(host, port, timeout=timeout) as smtp:
				smtp.ehlo()
				if use_tls:
					smtp.starttls()
					smtp.ehlo()
				if username or password:
					smtp.login(username, password)
				refused = smtp.send_message(message)
		except smtplib.SMTPAuthenticationError as error:
			raise CheckFailed(
				f"SMTP at {where} refused the login for '{username}' ({error.smtp_code})",
				"Copy the SMTP credential from Postal into postal_smtp_username/postal_smtp_password.",
			) from None
		except smtplib.SMTPSenderRefused as error:
			raise CheckFailed(
				f"SMTP at {where} refused the sender {sender} ({error.smtp_code})",
				f"Add and verify the domain of {sender} in Postal for this mail server.",
			) from None
		except smtplib.SMTPRecipientsRefused:
			raise CheckFailed(
				f"SMTP at {where} refused the recipient {recipient}",
				"Check bootstrap_admin_email, and that Postal may send to it.",
			) from None
		except (OSError, smtplib.SMTPException) as error:
			raise CheckFailed(
				f"SMTP at {where} did not take the test message ({type(error).__name__})",
				"Start Postal's SMTP server and check postal_smtp_host and postal_smtp_port.",
			) from None
		if refused:
			raise CheckFailed(
				f"SMTP at {where} refused the recipient {recipient}",
				"Check bootstrap_admin_email, and that Postal may send to it.",
			)
		return f"{where} accepted a test message from {sender} to {recipient}"

	return Check("Outgoing mail", probe, timeout=timeout * 3)


def postal_api_key_check(postal_url: str, server_api_key: str, *, timeout: float = 5.0) -> Check:
	"""Press's mail goes through Postal's HTTP API; see PostalClient.verify_api_key for the probe."""

	def probe() -> str:
		try:
			PostalClient(postal_url, server_api_key, timeout=timeout).verify_api_key()
		except ServiceRejectedError as error:
			if error.code in ("InvalidServerAPIKey", "AccessDenied"):
				raise CheckFailed(
					f"Postal refused the server API key ({error.code})",
					"Create an API credential for the mail server in Postal and put it in postal_server_api_key.",
				) from None
			raise CheckFailed(
				f"Postal did not answer as expected ({error})",
				"Check postal_url: it must be Postal's web server, for example http://postal-web:5000.",
			) from None
		except ServiceError as error:
			raise CheckFailed(
				f"Postal at {postal_url} is unreachable ({error})",
				"Start Postal and check postal_url in Selfhost Settings.",
			) from None
		return f"Postal at {postal_url} accepts the server API key"

	return Check(
		"Postal API key",
		probe,
		timeout=timeout * 2,
		fix_on_error="Check postal_url and postal_server_api_key.",
	)


def postal_webhook_reachable_check(press_url: str, domain: str, *, timeout: float = 5.0) -> Check:
	"""Postal delivers as Guest: an unsigned POST must reach our endpoint (and be refused there)."""

	def probe() -> str:
		return guest_webhook_probe(
			"Postal",
			press_url,
			domain,
			POSTAL_WEBHOOK_METHOD,
			unavailable_fix="Paste the mail server's webhook public key from Postal into postal_webhook_public_key.",
			timeout=timeout,
		)

	return Check(
		"Postal webhook reachable",
		probe,
		timeout=timeout * 2,
		fix_on_error="Check press_upstream_url and domain in Selfhost Settings.",
	)
