# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models

from . import billing_period_math as period_math


class CrmLead(models.Model):
    _inherit = "crm.lead"

    billing_mrr = fields.Monetary(
        string="Quoted MRR",
        compute="_compute_billing_mrr",
        currency_field="company_currency",
        help="Monthly recurring revenue the opportunity's quotations and orders would bring: "
        "their lines whose product recurs, in company currency.",
    )

    @api.depends(
        "order_ids.state",
        "order_ids.order_line.price_subtotal",
        "order_ids.order_line.product_id",
    )
    def _compute_billing_mrr(self):
        """Sum the recurring lines of the leads' live quotations and orders, each
        turned into a monthly amount by its product's recurrence."""
        lines = (
            self.env["sale.order.line"].search(
                [
                    ("order_id.opportunity_id", "in", self.ids),
                    ("order_id.state", "!=", "cancel"),
                    ("display_type", "=", False),
                    ("is_downpayment", "=", False),
                    ("product_id.billing_rule_type", "!=", False),
                ]
            )
            if self.ids
            else self.env["sale.order.line"]
        )
        today = fields.Date.context_today(self)
        lines_by_lead = lines.grouped(lambda line: line.order_id.opportunity_id.id)
        for lead in self:
            company = lead.company_id or self.env.company
            currency = lead.company_currency or company.currency_id
            total = 0.0
            for line in lines_by_lead.get(lead._origin.id, ()):
                template = line.product_id.product_tmpl_id
                monthly = line.price_subtotal * float(
                    period_math.monthly_factor(
                        template.billing_rule_type, max(template.billing_interval, 1)
                    )
                )
                total += line.currency_id._convert(monthly, currency, company, today)
            lead.billing_mrr = total
