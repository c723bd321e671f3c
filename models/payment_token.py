# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import _, models


class PaymentToken(models.Model):
    _inherit = "payment.token"

    def get_linked_records_info(self):
        """Tell whoever deletes this payment method which billing schedules charge it."""
        res = super().get_linked_records_info()
        schedules = (
            self.env["crm.billing.schedule"]
            .sudo()
            .search(
                [("payment_token_id", "=", self.id), ("state", "not in", ("done", "cancelled"))]
            )
        )
        for schedule in schedules:
            res.append(
                {
                    "description": _("Billing Schedule"),
                    "id": schedule.id,
                    "name": schedule.name,
                    "url": schedule.access_url,
                }
            )
        return res
