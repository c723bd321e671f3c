# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import _, models


class PaymentToken(models.Model):
    _inherit = "payment.token"

    def get_linked_records_info(self):
        """Tell whoever deletes this payment method which billing schedules charge it
        (a public method: the caller must be able to read the token itself)."""
        self.check_access("read")
        res = super().get_linked_records_info()
        schedules = (
            self.env["crm.billing.schedule"]
            .sudo()
            .search(
                [("payment_token_id", "=", self.id), ("state", "not in", ("done", "cancelled"))]
            )
        )
        if self.partner_id != self.env.user.partner_id:
            # sales and invoicing users read every token: name them only the
            # schedules they may open themselves
            schedules = schedules.with_env(self.env)._filtered_access("read")
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
