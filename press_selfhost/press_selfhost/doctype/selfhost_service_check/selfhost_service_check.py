from frappe.model.document import Document


class SelfhostServiceCheck(Document):
	"""The last doctor result for one service check; `press-selfhost doctor` and an hourly job write it."""
