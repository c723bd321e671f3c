# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class CrmBillingPeriod(models.Model):
    """One invoiced period of a schedule.

    A period exists only once it is invoiced, and at most once: the unique
    (schedule, period start) key is what finally guarantees that no run, however
    it races with another, invoices a period twice."""

    _name = "crm.billing.period"
    _description = "Invoiced Billing Period"
    _order = "schedule_id, date_start"
    _rec_name = "date_start"

    schedule_id = fields.Many2one(
        "crm.billing.schedule", required=True, ondelete="restrict", index=True, readonly=True
    )
    company_id = fields.Many2one(related="schedule_id.company_id", store=True, index=True)
    partner_id = fields.Many2one(related="schedule_id.partner_id", store=True, index=True)
    currency_id = fields.Many2one(related="invoice_id.currency_id")
    date_start = fields.Date(string="From", required=True, readonly=True)
    date_end = fields.Date(string="To", required=True, readonly=True)
    invoice_date = fields.Date(required=True, readonly=True)
    factor = fields.Float(
        string="Share of a Full Period",
        digits=(16, 6),
        default=1.0,
        readonly=True,
        help="1 for a full period, less for a prorated one.",
    )
    invoice_id = fields.Many2one("account.move", readonly=True, index=True)
    invoice_state = fields.Selection(related="invoice_id.state", string="Invoice Status")
    payment_state = fields.Selection(related="invoice_id.payment_state")
    amount_total = fields.Monetary(related="invoice_id.amount_total", string="Total")

    _schedule_period_unique = models.Constraint(
        "UNIQUE(schedule_id, date_start)",
        "This period of the schedule is already invoiced.",
    )

    def _compute_display_name(self):
        for period in self:
            period.display_name = (
                f"{period.schedule_id.name} {period.date_start} → {period.date_end}"
            )
