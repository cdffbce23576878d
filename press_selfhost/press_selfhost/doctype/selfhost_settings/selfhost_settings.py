import frappe
from frappe.model.document import Document

from press_selfhost.errors import ConfigurationError
from press_selfhost.setup.branding import apply_platform_name
from press_selfhost.setup.settings import validate_settings


class SelfhostSettings(Document):
	def validate(self):
		try:
			validate_settings(self.as_dict())
		except ConfigurationError as error:
			frappe.throw(str(error).replace("\n", "<br>"), title="Invalid Selfhost Settings")

	def on_update(self):
		apply_platform_name(self)
