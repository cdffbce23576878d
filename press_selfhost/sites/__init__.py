"""A customer's new site: pay first through Lago, then the site, and the progress the customer watches.

Framework-free: `progress` (the facts about a site in the customer's words, and what to do next).
Frappe glue: `new_site` (press.api.site.new for Lago-billed teams, the progress and retry endpoints).
"""
