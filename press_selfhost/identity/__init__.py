"""Identity: logins through Keycloak, for the dashboard and for tenant sites, and the realm's set-up.

Framework-free: `keycloak` (the OpenID Connect client), `keycloak_admin` (the realm through Keycloak's
admin API), `rules` (who may log in, and as whom), `tenant_login` (the tenant app's login, shared
with press_selfhost_tenant), `checks` (the doctor's checks of Keycloak). Frappe glue: `dashboard_login`,
`site_sso`, `overrides`.
"""
