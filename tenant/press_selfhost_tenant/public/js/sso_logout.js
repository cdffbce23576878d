// press_selfhost_tenant: when single sign-on is on for this site, the desk's "Log out" goes through
// /auth/keycloak/logout, which ends the Frappe session and then the Keycloak session (a plain
// Frappe logout would leave Keycloak logged in, and the next SSO login would pass silently).
(function () {
	const original = frappe.Application && frappe.Application.prototype.logout;
	if (!original) return;
	frappe.Application.prototype.logout = function () {
		if (frappe.boot && frappe.boot.keycloak_sso) {
			this.logged_out = true;
			window.location.href = "/auth/keycloak/logout";
			return Promise.resolve();
		}
		return original.apply(this, arguments);
	};
})();
