# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import timedelta

from odoo import _, api, fields, models


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

    # --- Demo data ---

    @api.model
    def _billing_demo_charges(self, refused_xmlid, saved_xmlid):
        """Demo data only, when Odoo's payment_demo is installed: the customer of
        schedule ``refused_xmlid`` saves a card that is refused, then accepted on the
        retry; the customer of ``saved_xmlid`` saves a card for its next invoices."""
        provider = self.env.ref("payment.payment_provider_demo", raise_if_not_found=False)
        if not provider or "demo_simulated_state" not in self._fields:
            return
        if provider.state == "disabled":
            provider.state = "test"
        if not provider.journal_id:
            provider.journal_id = self.env["account.journal"].search(
                [("type", "=", "bank"), ("company_id", "=", provider.company_id.id)], limit=1
            )
        schedules = self.env.ref(refused_xmlid) + self.env.ref(saved_xmlid)
        tokens = self.create(
            [
                {
                    "provider_id": provider.id,
                    "payment_method_id": provider.payment_method_ids[:1].id,
                    "partner_id": schedule.partner_id.commercial_partner_id.id,
                    "payment_details": details,
                    "provider_ref": f"demo {schedule.partner_id.name}",
                    "demo_simulated_state": state,
                }
                for schedule, details, state in zip(
                    schedules, ("4000", "4242"), ("error", "done"), strict=True
                )
            ]
        )
        for schedule, token in zip(schedules, tokens, strict=True):
            schedule.payment_token_id = token
        refused, token = schedules[0], tokens[0]
        invoice = refused.invoice_ids.filtered(
            lambda m: m.state == "posted" and m.payment_state == "not_paid"
        ).sorted("invoice_date")[-1:]
        if not invoice:
            return
        Charge = self.env["crm.billing.charge"]
        today = fields.Date.context_today(self)
        invoice.billing_next_charge_date = today
        Charge._collect_payments()
        # the refusal came yesterday; today the bank accepts the card and the retry pays
        first = invoice.billing_charge_ids
        first.write({"date": first.date - timedelta(days=1), "next_retry_date": today})
        invoice.billing_next_charge_date = today
        token.demo_simulated_state = "done"
        Charge._collect_payments()
