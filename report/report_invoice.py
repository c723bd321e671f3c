# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import _, api, models
from odoo.exceptions import UserError


class ReportAccountReportInvoice(models.AbstractModel):
    """Odoo's invoice document (also behind account.account_invoices): customer
    invoices and credit notes are printed only for a customer with an address."""

    _name = "report.account.report_invoice"
    _inherit = ["report.account.report_invoice", "crm.billing.document.report"]

    @api.model
    def _get_report_values(self, docids, data=None):
        values = super()._get_report_values(docids, data)
        invoices = values["docs"].filtered(lambda m: m.is_sale_document(include_receipts=False))
        missing = self._crm_billing_missing_addresses(invoices, lambda m: m.partner_id)
        if missing:
            raise UserError(
                _(
                    "The invoice cannot be printed: the customer has no address. Add a street, "
                    "city or ZIP code on the customer, then print again: %s",
                    missing,
                )
            )
        return values
