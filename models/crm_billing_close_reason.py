# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class CrmBillingCloseReason(models.Model):
    """Why a customer left: chosen when a schedule is closed, counted in the churned
    MRR by reason. Managed by billing managers."""

    _name = "crm.billing.close.reason"
    _description = "Billing Schedule Close Reason"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    portal_visible = fields.Boolean(
        string="Offered to Customers",
        default=True,
        help="Customers cancelling in the portal may choose this reason.",
    )
    schedule_count = fields.Integer(compute="_compute_schedule_count")

    _name_unique = models.Constraint("UNIQUE(name)", "This close reason already exists.")

    def _compute_schedule_count(self):
        counts = dict(
            self.env["crm.billing.schedule"]._read_group(
                [("close_reason_id", "in", self.ids)], ["close_reason_id"], ["__count"]
            )
        )
        for reason in self:
            reason.schedule_count = counts.get(reason, 0)
