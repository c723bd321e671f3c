# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import date

from odoo import Command, http
from odoo.tests import HttpCase, new_test_user, tagged

from odoo.addons.payment_demo.tests.common import PaymentDemoCommon

from .common import BillingCommon, ChargeCommon


@tagged("post_install", "-at_install")
class TestTourPaymentMethod(ChargeCommon, PaymentDemoCommon, BillingCommon, HttpCase):
    """A customer, in a real browser, picks the card that pays a schedule."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_charge_common()
        cls.customer.is_company = True
        cls.portal = new_test_user(
            cls.env,
            login="crm_billing_tour_portal",
            password="crm_billing_tour_portal",
            name="Tour Customer Contact",
            groups="base.group_portal",
            company_id=cls.env.company.id,
            company_ids=[Command.set(cls.env.company.ids)],
        )
        cls.portal.partner_id.parent_id = cls.customer
        cls.card = cls._demo_token("done", partner=cls.portal.partner_id, details="4321")
        cls.stranger_card = cls._demo_token(
            "done",
            partner=cls.env["res.partner"].create({"name": "Stranger"}),
            details="9999",
        )
        cls.schedule = cls._create_schedule(date_start=date(2027, 3, 1), name="Tour Schedule")
        cls.schedule.action_start()

    def test_choose_payment_method_tour(self):
        self.start_tour("/my/billing", "crm_billing_payment_method_tour", login=self.portal.login)
        self.assertEqual(self.schedule.payment_token_id, self.card)

    def test_portal_refuses_a_stranger_token(self):
        self.authenticate(self.portal.login, self.portal.login)
        response = self.url_open(
            f"/my/billing/{self.schedule.id}/payment_method",
            data={"token_id": self.stranger_card.id, "csrf_token": http.Request.csrf_token(self)},
        )
        self.assertIn("payment_method=refused", response.url)
        self.assertFalse(self.schedule.payment_token_id)
