# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import _, api, models
from odoo.exceptions import UserError


class ReportCrmBillingReportEstimate(models.AbstractModel):
    """The estimate (crm_billing.action_report_estimate): sale's quotation document,
    printed only for a customer with an invoicing address."""

    _name = "report.crm_billing.report_estimate"
    _description = "Estimate"

    @api.model
    def _get_report_values(self, docids, data=None):
        orders = self.env["sale.order"].browse(docids)
        missing = orders.filtered(
            lambda o: (
                not (
                    o.partner_invoice_id.street
                    or o.partner_invoice_id.street2
                    or o.partner_invoice_id.city
                    or o.partner_invoice_id.zip
                )
            )
        )
        if missing:
            raise UserError(
                _(
                    "The estimate cannot be printed: the customer has no address. Add a street, "
                    "city or ZIP code on the customer, then print again: %s",
                    ", ".join(f"{o.name} ({o.partner_invoice_id.display_name})" for o in missing),
                )
            )
        return {
            "doc_ids": docids,
            "doc_model": "sale.order",
            "docs": orders,
            "data": data,
        }
