app_name = "press_selfhost_tenant"
app_title = "Press Selfhost Tenant"
app_publisher = "press_selfhost developers"
app_description = "Keycloak single sign-on for customer sites of a self-hosted Press"
app_email = "admin@localhost"
app_license = "AGPL-3.0-or-later"

# SSO is on when Press has written `press_selfhost_sso` into site_config.json; the routes under
# /auth/keycloak/ (www/) answer 503 otherwise, and everything below does nothing.

# The desk learns whether to log out through Keycloak.
boot_session = "press_selfhost_tenant.sso.boot_session"
app_include_js = ["/assets/press_selfhost_tenant/js/sso_logout.js"]

# Frappe's /login page gets a "Login with Keycloak" button.
update_website_context = "press_selfhost_tenant.sso.login_button"

# The website's "Log out" (/?cmd=web_logout) also ends the Keycloak session.
override_whitelisted_methods = {"web_logout": "press_selfhost_tenant.sso.web_logout"}
