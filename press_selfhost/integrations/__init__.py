"""Clients of the external systems, one module per system.

Nothing in this package imports frappe: every function takes its settings as arguments and returns
plain data, so it runs and is tested without a bench.
"""
