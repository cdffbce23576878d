// press_selfhost: switch Keycloak single sign-on for a tenant site on or off from the desk's Site form.
frappe.ui.form.on("Site", {
	refresh(frm) {
		if (frm.is_new() || frm.doc.status !== "Active") return;
		const on = frm.doc.keycloak_sso_enabled;
		const method = on ? "disable" : "enable";
		frm.add_custom_button(
			on ? __("Switch off") : __("Switch on"),
			() =>
				frappe.call({
					method: `press_selfhost.api.site_sso.${method}`,
					args: { site: frm.doc.name },
					freeze: true,
					callback: () => frm.reload_doc(),
				}),
			__("Single sign-on"),
		);
	},
});
