# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class SaleOrder(models.Model):
    """Renewal quotations: the next term of a billing schedule, for the salesperson
    to send. Confirmed, it renews the schedule with its lines and prices; the
    schedule invoices the term, the order itself invoices nothing."""

    _inherit = "sale.order"

    billing_renewal_schedule_id = fields.Many2one(
        "crm.billing.schedule",
        string="Renews",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="The billing schedule this quotation renews for another term.",
    )
    billing_renewal_date_end = fields.Date(
        string="Renews the Term Ending",
        readonly=True,
        copy=False,
        help="The end of the term this quotation renews: it renews that term only once.",
    )

    def action_confirm(self):
        # renew first: a refusal leaves the quotation as it was
        for order in self.filtered("billing_renewal_schedule_id"):
            order.billing_renewal_schedule_id.sudo()._billing_renew_from_order(order)
        return super().action_confirm()


class SaleOrderLine(models.Model):
    _inherit = "sale.order.line"

    billing_renewal_line_id = fields.Many2one(
        "crm.billing.schedule.line",
        string="Renewed Schedule Line",
        readonly=True,
        copy=False,
        index="btree_not_null",
    )

    def _compute_qty_to_invoice(self):
        # the renewed schedule invoices a renewal quotation's lines, period by period
        super()._compute_qty_to_invoice()
        for line in self.filtered("order_id.billing_renewal_schedule_id"):
            line.qty_to_invoice = 0.0
