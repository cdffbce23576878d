from frappe.model.document import Document


class MailSuppression(Document):
	"""A hard-bounced address; the mail module refuses to send to it while this record exists."""
