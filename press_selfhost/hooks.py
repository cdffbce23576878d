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

# --- Backups on MinIO (issue 5) ---
# Press takes the backups (no offsite: the stock Agent cannot reach MinIO); we ship them, encrypted.
scheduler_events = {
	"cron": {"*/10 * * * *": ["press_selfhost.backup_shipper.ship_pending_backups"]},
	"daily": ["press_selfhost.backup_shipper.abort_stale_uploads"],
}
# Restore links (Remote File URLs) are served decrypted at /press-selfhost-backup/<file name>.
page_renderer = ["press_selfhost.backup_download.BackupDownloadPage"]
