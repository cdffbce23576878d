app_name = "press_selfhost"
app_title = "Press Selfhost"
app_publisher = "press_selfhost developers"
app_description = (
	"Self-hosted Frappe Press: Lago billing, Keycloak SSO, Postal mail, MinIO backups and Traefik routing"
)
app_email = "admin@localhost"
app_license = "AGPL-3.0-or-later"

# Press must be installed first: we extend its doctypes and drive sites through its methods.
required_apps = ["frappe/press"]

# Bootstrap (issue 7): create Press's self-hosting records right after install when settings allow.
after_install = "press_selfhost.bootstrap.after_install"
