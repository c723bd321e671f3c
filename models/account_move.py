# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class AccountMove(models.Model):
    _inherit = "account.move"

    billing_schedule_id = fields.Many2one(
        "crm.billing.schedule",
        string="Billing Schedule",
        readonly=True,
        copy=False,
        index="btree_not_null",
    )
    billing_period_id = fields.Many2one(
        "crm.billing.period",
        string="Billing Period",
        readonly=True,
        copy=False,
        index="btree_not_null",
    )
    billing_period_start = fields.Date(related="billing_period_id.date_start", string="Period From")
    billing_period_end = fields.Date(related="billing_period_id.date_end", string="Period To")

    def _billing_after_create(self):
        """Hand posted invoices of auto-sending schedules to Odoo's sending queue:
        the PDF is rendered and the email sent by account's own cron, outside the
        billing run."""
        to_send = self.filtered(
            lambda m: m.state == "posted" and m.billing_schedule_id.auto_send
        )
        if not to_send:
            return
        user = self.env.user
        to_send.sending_data = {
            "author_user_id": user.id,
            "author_partner_id": user.partner_id.id,
            "sending_methods": ["email"],
        }
        self.env.ref("account.ir_cron_account_move_send")._trigger()
