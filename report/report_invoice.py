# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import _, api, models


class ReportAccountReportInvoice(models.AbstractModel):
    """Odoo's invoice document (also behind account.account_invoices): customer
    invoices and credit notes are printed only for a customer with an address."""

    _name = "report.account.report_invoice"
    _inherit = ["report.account.report_invoice", "crm.billing.document.report"]

    @api.model
    def _get_report_values(self, docids, data=None):
        values = super()._get_report_values(docids, data)
        invoices = values["docs"].filtered(lambda m: m.is_sale_document(include_receipts=False))
        self._crm_billing_check_addresses(invoices, lambda m: m.partner_id, _("invoice"))
        return values
