from frappe.model.document import Document


class KeycloakSession(Document):
	"""Written by the Keycloak login callback, removed at logout (press_selfhost.identity.dashboard_login)."""
