# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import json
from datetime import date, datetime, timedelta

from freezegun import freeze_time

from odoo.tests import HttpCase, new_test_user, tagged

from .common import BillingCommon


@tagged("post_install", "-at_install")
class TestUsageRpc(BillingCommon, HttpCase):
    """Usage sent through the running server, as an integration would."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.product_calls = cls._create_product(name="API calls", lst_price=0.01)
        cls.schedule = cls._create_schedule(
            lines=[
                {
                    "product_id": cls.product_calls.id,
                    "name": "API calls",
                    "quantity_source": "usage",
                    "price_unit": 0.01,
                }
            ],
            date_start=date(2027, 3, 1),
            invoicing_mode="postpaid",
        )
        cls.schedule.action_start()
        cls.integration = new_test_user(
            cls.env,
            "usage_integration",
            groups="crm_billing.group_billing_manager,sales_team.group_sale_manager",
        )
        key = (
            cls.env["res.users.apikeys"]
            .with_user(cls.integration)
            ._generate(
                scope="rpc", name="meter", expiration_date=datetime.now() + timedelta(hours=12)
            )
        )
        cls.headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}

    def _create(self, vals_list):
        return self.url_open(
            "/json/2/crm.billing.usage/create",
            data=json.dumps({"vals_list": vals_list}),
            headers=self.headers,
        )

    def test_batch_create_over_json2(self):
        vals_list = [
            {
                "schedule_id": self.schedule.id,
                "product_id": self.product_calls.id,
                "date": f"2027-03-{1 + i % 28:02d}",
                "quantity": 10,
                "reference": f"evt-{i}",
            }
            for i in range(500)
        ]
        response = self._create(vals_list)
        self.assertEqual(response.status_code, 200, response.text)
        self.assertEqual(len(response.json()), 500)
        self.assertEqual(self.schedule.usage_count, 500)
        # sent again: refused as a whole, saying why, nothing stored twice
        response = self._create(vals_list[:3] + [dict(vals_list[0], reference="evt-new")])
        self.assertEqual(response.status_code, 422, response.text)
        self.assertIn("Usage already recorded", response.json()["message"])
        self.schedule.invalidate_recordset(["usage_count"])
        self.assertEqual(self.schedule.usage_count, 500)
        with freeze_time("2027-03-31"):
            invoice = self.schedule._generate_invoices()
        self.assertEqual(invoice.invoice_line_ids.quantity, 5000)
        self.assertEqual(invoice.amount_untaxed, 50.0)

    def test_portal_page_shows_usage(self):
        today = date.today()
        schedule = self._create_schedule(
            lines=[
                {
                    "product_id": self.product_calls.id,
                    "name": "API calls",
                    "quantity_source": "usage",
                    "price_unit": 0.01,
                    "included_quantity": 1000,
                }
            ],
            date_start=today.replace(day=1),
            invoicing_mode="postpaid",
        )
        schedule.action_start()
        portal = new_test_user(
            self.env, "usage_portal_page", groups="base.group_portal", partner_id=self.customer.id
        )
        self.env["crm.billing.usage"].create(
            {"line_id": schedule.line_ids.id, "date": today, "quantity": 1234, "reference": "p"}
        )
        self.authenticate(portal.login, portal.login)
        page = self.url_open(f"/my/billing/{schedule.id}")
        self.assertEqual(page.status_code, 200)
        self.assertIn("Usage this Period", page.text)
        self.assertIn("1,234 Units", page.text)
        self.assertIn("1,000 Units", page.text)
