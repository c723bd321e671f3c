# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import date

from freezegun import freeze_time

from odoo import Command
from odoo.tests import new_test_user, tagged

from .common import BillingCommon


@tagged("post_install", "-at_install")
class TestLifecycleMrr(BillingCommon):
    """MRR movements come from the change history, not from today's prices, and
    churn is counted by close reason."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.manager = new_test_user(
            cls.env, login="mrr_manager", groups="crm_billing.group_billing_manager"
        )
        cls.other = cls.env["res.partner"].create({"name": "Halloran Ltd", "is_company": True})
        cls.reason = cls.env.ref("crm_billing.close_reason_competitor")

    def _running(self, partner, quantity, price):
        schedule = self._create_schedule(
            lines=[
                {
                    "product_id": self.product_sub.id,
                    "name": "Seats",
                    "quantity": quantity,
                    "price_unit": price,
                    "tax_ids": [Command.set(self.tax_sale_a.ids)],
                }
            ],
            partner_id=partner.id,
            date_start=date(2027, 1, 1),
        )
        schedule.action_start()
        return schedule

    def test_movements_across_three_months(self):
        seats = self._running(self.customer, 2, 100.0)
        other = self._running(self.other, 1, 100.0)
        for day in ("2027-01-01", "2027-02-01"):
            with freeze_time(day):
                (seats | other)._generate_invoices()
        with freeze_time("2027-02-10"):
            seats._apply_billing_changes("2027-02-10", [{"line": seats.line_ids, "quantity": 5}])
        with freeze_time("2027-03-01"):
            (seats | other)._generate_invoices()
        with freeze_time("2027-03-05"):
            seats._apply_billing_changes("2027-03-05", [{"line": seats.line_ids, "quantity": 3}])
        with freeze_time("2027-03-10"):
            other._billing_close(self.reason, when="now", credit_unused=True)
        with freeze_time("2027-03-20"):
            Report = self.env["crm.billing.mrr.report"].with_user(self.manager)
            moves = Report._get_mrr_movements(
                date(2027, 1, 1),
                date(2027, 3, 31),
                [("partner_id", "in", (self.customer | self.other).ids)],
            )
            got = [
                (m["mrr"], m["new"], m["expansion"], m["contraction"], m["churn"]) for m in moves
            ]
            self.assertEqual(
                got,
                [
                    # January at January's price (2 seats), not today's 3
                    (300.0, 300.0, 0.0, 0.0, 0.0),
                    (600.0, 0.0, 300.0, 0.0, 0.0),
                    (300.0, 0.0, 0.0, 200.0, 100.0),
                ],
            )
            Movement = self.env["crm.billing.mrr.movement.report"].with_user(self.manager)
            churn = Movement._read_group(
                [
                    ("partner_id", "in", (self.customer | self.other).ids),
                    ("churned_mrr", ">", 0),
                ],
                ["month:month", "close_reason_id"],
                ["churned_mrr:sum"],
            )
            self.assertEqual(
                [(str(month), reason, amount) for month, reason, amount in churn],
                [("2027-03-01", self.reason, 100.0)],
            )
