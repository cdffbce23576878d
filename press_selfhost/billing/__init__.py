"""Billing: Lago bills, Press hosts. Lago's webhooks drive each site through its lifecycle.

Framework-free: `lago` (the Lago API client and webhook verifier), `lifecycle` (the tenant state
machine: events in, state and commands out), `invoices` (what a team sees of its billing), `plans`
(Lago's plans as the dashboard shows them, pay first or not), `format`, `checks` (the doctor's checks
of Lago and of its webhook).
Frappe glue: `jobs` (carries the lifecycle's commands out through Press's Site methods), `team`
(Press's Team without Stripe), `site_plans` (Site Plans priced and offered from Lago's plans).
"""
