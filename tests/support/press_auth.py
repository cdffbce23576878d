"""Press's auth hook (`press/auth.py`, its `auth_hooks` entry) as data, per Press commit.

For every request whose path starts with /api/, a caller who is not a System User is refused with
401 "Access not allowed for this URL" unless the path is allowed below. Copied from the two Press
commits press_selfhost is installed on (read `press/auth.py` at each).
"""

from dataclasses import dataclass

REFUSAL_MESSAGE = "Access not allowed for this URL"


@dataclass(frozen=True)
class AuthHookRules:
	press_commit: str
	allowed_paths: frozenset[str]
	allowed_wildcard_paths: tuple[str, ...]
	denied_paths: frozenset[str]
	denied_wildcard_paths: tuple[str, ...]

	def allows(self, path: str, user_type: str) -> bool:
		"""What `press.auth.hook` decides for a request to `path` by a user of `user_type`."""
		if user_type == "System User":
			return True
		if path in self.denied_paths:
			return False
		for denied in self.denied_wildcard_paths:
			if path.startswith(denied):
				return path.startswith(self.allowed_wildcard_paths) or path in self.allowed_paths
		return True


_COMMON_ALLOWED = {
	"/api/method/create-site-migration",
	"/api/method/create-version-upgrade",
	"/api/method/migrate-to-private-bench",
	"/api/method/find-my-sites",
	"/api/method/frappe.core.doctype.communication.email.mark_email_as_seen",
	"/api/method/frappe.realtime.get_user_info",
	"/api/method/frappe.realtime.can_subscribe_doc",
	"/api/method/frappe.realtime.can_subscribe_doctype",
	"/api/method/frappe.realtime.has_permission",
	"/api/method/frappe.www.login.login_via_frappe",
	"/api/method/frappe.integrations.oauth2.authorize",
	"/api/method/frappe.integrations.oauth2.approve",
	"/api/method/frappe.integrations.oauth2.get_token",
	"/api/method/frappe.integrations.oauth2.openid_profile",
	"/api/method/frappe.integrations.oauth2_logins.login_via_frappe",
	"/api/method/frappe.website.doctype.web_page_view.web_page_view.make_view_log",
	"/api/method/get-user-sites-list-for-new-ticket",
	"/api/method/ping",
	"/api/method/login",
	"/api/method/logout",
	"/api/method/press.press.doctype.razorpay_webhook_log.razorpay_webhook_log.razorpay_webhook_handler",
	"/api/method/press.press.doctype.razorpay_webhook_log.razorpay_webhook_log.razorpay_authorized_payment_handler",
	"/api/method/press.press.doctype.stripe_webhook_log.stripe_webhook_log.stripe_webhook_handler",
	"/api/method/upload_file",
	"/api/method/frappe.search.web_search",
	"/api/method/frappe.email.queue.unsubscribe",
	"/api/method/press.utils.telemetry.capture_read_event",
	"/api/method/validate_plan_change",
	"/api/method/marketplace-apps",
	"/api/method/press.www.dashboard.get_context_for_dev",
	"/api/method/frappe.website.doctype.web_form.web_form.accept",
	"/api/method/frappe.core.doctype.user.user.test_password_strength",
	"/api/method/frappe.core.doctype.user.user.update_password",
	"/api/method/get_central_migration_data",
}
_WILDCARDS = (
	"/api/method/press.api.",
	"/api/method/press.saas.",
	"/api/method/wiki.",
	"/api/method/frappe.integrations.oauth2_logins.",
	"/api/method/press.www.marketplace.index.",
)

PRESS_8542B9C = AuthHookRules(
	press_commit="8542b9c (February 2025)",
	allowed_paths=frozenset(
		_COMMON_ALLOWED | {"/api/method/frappe.client.get", "/api/method/frappe.client.get_count"}
	),
	allowed_wildcard_paths=_WILDCARDS,
	denied_paths=frozenset(),
	denied_wildcard_paths=("/api/",),
)

PRESS_010BC70 = AuthHookRules(
	press_commit="010bc70 (August 2026)",
	# frappe.client.get and get_count are no longer allowed.
	allowed_paths=frozenset(
		_COMMON_ALLOWED
		| {
			"/api/method/frappe.desk.form.utils.add_comment",
			"/api/method/press.press.doctype.razorpay_webhook_log.razorpay_webhook_log.razorpay_emandate_webhook_handler",
			"/api/method/press.press.doctype.drip_email.drip_email.unsubscribe",
			"/api/method/press.press.doctype.user_2fa.user_2fa.unsubscribe_from_recovery_code_reminders",
			"/api/method/press.partner.doctype.partner_onboarding.partner_onboarding.get_certificate_link_status",
			"/api/method/press.partner.doctype.partner_onboarding.partner_onboarding.get_mrr_status",
			"/api/method/press.partner.doctype.partner_onboarding.partner_onboarding.get_partner_onboarding",
			"/api/method/press.partner.doctype.partner_onboarding.partner_onboarding.resend_certificate_link_request",
			"/api/method/press.partner.doctype.partner_onboarding.partner_onboarding.save_partner_onboarding",
			"/api/method/press.partner.doctype.partner_onboarding.partner_onboarding.send_certificate_link_request",
			"/api/method/press.partner.doctype.partner_onboarding.partner_onboarding.submit_for_approval",
			"/api/method/press.partner.doctype.partner_onboarding.partner_onboarding.unregister",
		}
	),
	allowed_wildcard_paths=_WILDCARDS,
	denied_paths=frozenset({"/printview", "/printpreview"}),
	denied_wildcard_paths=("/api/",),
)

PRESS_VERSIONS = (PRESS_8542B9C, PRESS_010BC70)
