"""Backup Policy: how often the sites of one Press Site Plan are backed up, read by the backup scheduler."""

import frappe
from frappe import _
from frappe.model.document import Document


class BackupPolicy(Document):
	def validate(self):
		if (self.interval_hours or 0) < 1:
			frappe.throw(_("Interval (Hours) must be at least 1."))
