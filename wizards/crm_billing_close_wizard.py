# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import _, api, fields, models


class CrmBillingCloseWizard(models.TransientModel):
    """Close schedules with a reason, now or at the end of their current period."""

    _name = "crm.billing.close.wizard"
    _description = "Close Billing Schedules"

    schedule_ids = fields.Many2many("crm.billing.schedule", string="Schedules", required=True)
    reason_id = fields.Many2one("crm.billing.close.reason", required=True)
    when = fields.Selection(
        [("now", "Now"), ("period_end", "At the end of the current period")],
        default="period_end",
        required=True,
    )
    credit_unused = fields.Boolean(
        string="Credit Unused Days",
        default=lambda self: self.env.company.billing_close_credit_unused,
        help="Closing now: credit the days of a prepaid period after today.",
    )

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        if "schedule_ids" in fields_list and not values.get("schedule_ids"):
            if self.env.context.get("active_model") == "crm.billing.schedule":
                values["schedule_ids"] = [
                    fields.Command.set(self.env.context.get("active_ids") or [])
                ]
        return values

    def action_close(self):
        self.ensure_one()
        moves = self.schedule_ids._billing_close(
            self.reason_id, when=self.when, credit_unused=self.credit_unused
        )
        credit_notes = moves.filtered(lambda m: m.move_type == "out_refund")
        if credit_notes and credit_notes.has_access("read"):
            return {
                "type": "ir.actions.act_window",
                "name": _("Credit Notes"),
                "res_model": "account.move",
                "view_mode": "list,form",
                "domain": [("id", "in", credit_notes.ids)],
                "target": "current",
            }
        return {"type": "ir.actions.act_window_close"}
