"""Lago Plan Map: the Lago plan code of a Press Site Plan, read by the Press → Lago sync."""

from frappe.model.document import Document


class LagoPlanMap(Document):
	pass
