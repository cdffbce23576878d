from frappe.model.document import Document


class KeycloakIdentity(Document):
	"""Written by the Keycloak login callback only (press_selfhost.identity.dashboard_login)."""
