# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import _, api, models


class AccountMoveSend(models.AbstractModel):
    _inherit = "account.move.send"

    @api.model
    def _hook_invoice_document_before_pdf_report_render(self, invoice, invoice_data):
        """An invoice whose customer has no address cannot be printed: say so before
        rendering, so that account's sending queue notes it on the invoice and goes on
        with the others instead of failing on it at every run."""
        super()._hook_invoice_document_before_pdf_report_render(invoice, invoice_data)
        Report = self.env["crm.billing.document.report"]
        if (
            not invoice_data.get("error")
            and not invoice.invoice_pdf_report_id
            and invoice.is_sale_document(include_receipts=False)
            and not Report._crm_billing_has_address(invoice.partner_id)
        ):
            invoice_data["error"] = {
                "error_title": _("The invoice cannot be sent: the customer has no address."),
                "errors": [
                    _(
                        "Add a street, city or ZIP code on %s, then send the invoice again.",
                        invoice.partner_id.display_name,
                    )
                ],
            }
