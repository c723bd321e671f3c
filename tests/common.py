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
