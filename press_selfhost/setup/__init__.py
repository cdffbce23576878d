"""Setting Press up on the stack: Selfhost Settings' validation, bootstrap of Press's records, the doctor.

Framework-free: `settings`, `bootstrap_plan`, `bootstrap_records`, `health` (what the doctor's checks
are made of, for every feature's `checks`), `checks` (MariaDB root), `doctor` (runs the checks Selfhost
Settings allow). Frappe glue: `bootstrap` (reads and writes Press's records), `service_checks` (the doctor's last results in the desk).
"""
