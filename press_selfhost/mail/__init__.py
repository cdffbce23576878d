"""Mail: transactional mail through Postal's HTTP API, and delivery status back from its webhooks.

Framework-free: `postal` (the Postal client and webhook verifier), `templates`, `context`, `status`,
`checks` (the doctor's checks of Postal's API, its SMTP and its webhook).
Frappe glue: `send` (sends a template to a user, processes Postal's events into Mail Messages).
"""
