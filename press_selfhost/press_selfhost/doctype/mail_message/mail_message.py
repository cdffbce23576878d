from frappe.model.document import Document


class MailMessage(Document):
	"""Written by press_selfhost.mail.send when sending and by Postal's delivery events; read-only in the desk."""
