# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import _, api, models
from odoo.exceptions import UserError


class ReportCrmBillingReportEstimate(models.AbstractModel):
    """The estimate (crm_billing.action_report_estimate): sale's quotation document,
    printed only for a customer with an invoicing address."""

    _name = "report.crm_billing.report_estimate"
    _inherit = "crm.billing.document.report"
    _description = "Estimate"

    @api.model
    def _get_report_values(self, docids, data=None):
        orders = self.env["sale.order"].browse(docids)
        missing = self._crm_billing_missing_addresses(orders, lambda o: o.partner_invoice_id)
        if missing:
            raise UserError(
                _(
                    "The estimate cannot be printed: the customer has no address. Add a street, "
                    "city or ZIP code on the customer, then print again: %s",
                    missing,
                )
            )
        return {
            "doc_ids": docids,
            "doc_model": "sale.order",
            "docs": orders,
            "data": data,
        }
