# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models


class MailComposeMessage(models.TransientModel):
    _inherit = "mail.compose.message"

    def _action_send_mail(self, auto_commit=False):
        """A receipt sent from the Send Receipt window is printed when the message
        goes out, not when the window renders its attachment: opening and
        cancelling the window counts no print."""
        result = super()._action_send_mail(auto_commit=auto_commit)
        template = self.env.ref("crm_billing.mail_template_receipt", raise_if_not_found=False)
        for composer in self.filtered(
            lambda c: c.model == "account.payment" and template and c.template_id == template
        ):
            payments = self.env["account.payment"].browse(composer._evaluate_res_ids())
            payments.exists()._crm_billing_count_receipt_print()
        return result
