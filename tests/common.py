# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import Command

from odoo.addons.account.tests.common import AccountTestInvoicingCommon


class BillingCommon(AccountTestInvoicingCommon):
    """A company with a chart of accounts, a customer and a subscription product."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Schedule = cls.env["crm.billing.schedule"]
        cls.customer = cls.env["res.partner"].create(
            {
                "name": "Marlowe Consulting",
                "street": "1 Quay Street",
                "city": "Cork",
                "email": "accounts@marlowe.example.com",
            }
        )
        cls.product_sub = cls._create_product(
            name="Support subscription", lst_price=100.0, taxes_id=cls.tax_sale_a
        )

    @classmethod
    def _create_schedule(cls, lines=None, **vals):
        lines = (
            lines
            if lines is not None
            else [
                {
                    "product_id": cls.product_sub.id,
                    "name": "Support",
                    "quantity": 1,
                    "price_unit": 100.0,
                    "tax_ids": [Command.set(cls.tax_sale_a.ids)],
                }
            ]
        )
        return cls.Schedule.create(
            {
                "partner_id": cls.customer.id,
                "rule_type": "monthly",
                "interval": 1,
                "auto_post": True,
                "line_ids": [Command.create(line) for line in lines],
                **vals,
            }
        )


class ChargeCommon:
    """Mixin for collection tests: Odoo's demo payment provider of the test company,
    posting its payments to the bank journal, and demo tokens of the customer whose
    charges end in a chosen state (done, pending, cancel, error). Mix it in before
    ``PaymentDemoCommon`` and ``BillingCommon``."""

    @classmethod
    def _setup_charge_common(cls):
        cls.Charge = cls.env["crm.billing.charge"]
        cls.provider.journal_id = cls.company_data["default_journal_bank"]

    @classmethod
    def _demo_token(cls, state, partner=None, details=None):
        return cls.env["payment.token"].create(
            {
                "provider_id": cls.provider.id,
                "payment_method_id": cls.provider.payment_method_ids[:1].id,
                "partner_id": (partner or cls.customer).id,
                "payment_details": details or f"42{len(state):02d}",
                "provider_ref": f"demo {state}",
                "demo_simulated_state": state,
            }
        )
