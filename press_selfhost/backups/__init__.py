"""Backups: Press takes them through the stock Agent; we encrypt them, ship them to MinIO (or any S3),
keep them on a schedule and a retention policy, and serve restore links.

Framework-free: `s3` (the S3 client and bucket configuration), `encryption`, `schedule`, `retention`,
`restore_links`, `checks` (the doctor's check of the buckets). Frappe glue: `scheduler` (takes backups on each plan's schedule), `shipper` (ships
Press's backup files), `download` (the restore link's page).
"""
