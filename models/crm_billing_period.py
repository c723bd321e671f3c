# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import _, api, fields, models
from odoo.exceptions import UserError


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

    #: what says which period was invoiced: set once, by the billing run
    _FROZEN = ("schedule_id", "date_start", "date_end", "invoice_date", "factor")

    def write(self, vals):
        frozen = [name for name in self._FROZEN if name in vals]
        for period in self if frozen or "invoice_id" in vals else ():
            if frozen or (period.invoice_id and vals["invoice_id"] != period.invoice_id.id):
                raise UserError(
                    _(
                        "Period %s is invoiced: it can no longer change.",
                        period.display_name,
                    )
                )
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_invoiced(self):
        """A period is the proof that it was invoiced: deleted, it would be invoiced
        again. Only a period whose invoice was cancelled or deleted may go."""
        standing = self.sudo().filtered(lambda p: p.invoice_id and p.invoice_id.state != "cancel")
        if standing:
            raise UserError(
                _(
                    "Period %(period)s is invoiced by %(invoice)s: it cannot be deleted. "
                    "Cancel the invoice first.",
                    period=standing[0].display_name,
                    invoice=standing[0].invoice_id.sudo().display_name,
                )
            )

    def _compute_display_name(self):
        for period in self:
            period.display_name = (
                f"{period.schedule_id.name} {period.date_start} → {period.date_end}"
            )
