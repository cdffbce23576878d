// Replay a Failed event: its processing runs again in a background job.
frappe.ui.form.on("Webhook Event", {
	refresh(frm) {
		if (frm.doc.status === "Failed") {
			frm.add_custom_button(__("Replay"), () =>
				frappe
					.call("press_selfhost.api.inbox.replay", { name: frm.doc.name })
					.then(() => frm.reload_doc())
			);
		}
	},
});
