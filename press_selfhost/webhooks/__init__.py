"""The webhook inbox shared by Lago and Postal: store each delivery once, answer fast, process later.

Framework-free: `delivery` (idempotency keys and retry delays). Frappe glue: `inbox`.
"""
