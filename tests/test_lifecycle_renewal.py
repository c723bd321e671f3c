# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import date

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from .common import BillingCommon


@tagged("post_install", "-at_install")
class TestScheduleRenewal(BillingCommon):
    """Fixed terms renew (with their price change) or end; the notice goes once."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.rep = new_test_user(
            cls.env, login="renewal_rep", groups="sales_team.group_sale_salesman"
        )
        cls.portal_user = new_test_user(
            cls.env, login="renewal_portal", groups="base.group_portal", partner_id=cls.customer.id
        )
        cls.env.company.billing_renewal_notice_days = 30

    def _term(self, **vals):
        schedule = self._create_schedule(
            lines=[
                {
                    "product_id": self.product_sub.id,
                    "name": "Seats",
                    "quantity": 2,
                    "price_unit": 100.0,
                    "tax_ids": [Command.set(self.tax_sale_a.ids)],
                }
            ],
            date_start=date(2027, 1, 1),
            date_end=date(2027, 3, 31),
            user_id=self.rep.id,
            **vals,
        )
        schedule.action_start()
        return schedule

    def _run(self, schedule, day):
        with freeze_time(day):
            return schedule._generate_invoices()

    def test_auto_renewal_with_price_change(self):
        schedule = self._term(auto_renew=True, renewal_price_change=10.0)
        for day in ("2027-01-01", "2027-02-01"):
            self._run(schedule, day)
        march = self._run(schedule, "2027-03-01")
        self.assertEqual(march.amount_untaxed, 200.0, "the old term's last period, old prices")
        self.assertEqual(schedule.state, "running")
        self.assertEqual(schedule.date_end, date(2027, 6, 30))
        self.assertEqual(schedule.term_start, date(2027, 4, 1))
        self.assertEqual(schedule.renewal_count, 1)
        self.assertEqual(schedule.line_ids.price_unit, 110.0)
        change = schedule.change_ids
        self.assertEqual((change.date, change.source), (date(2027, 4, 1), "renewal"))
        self.assertEqual((change.old_subtotal, change.new_subtotal), (200.0, 220.0))
        self.assertFalse(change.move_id)
        self.assertEqual(self._run(schedule, "2027-04-01").amount_untaxed, 220.0)
        self.assertEqual(schedule.next_invoice_date, date(2027, 5, 1))

    def test_without_auto_renewal_the_term_ends(self):
        schedule = self._term()
        self._run(schedule, "2027-03-01")
        self.assertEqual(schedule.state, "done")
        self.assertEqual(len(schedule.invoice_ids), 3)

    def test_renew_button_makes_the_next_term(self):
        schedule = self._term(renewal_price_change=-5.0)
        self._run(schedule, "2027-02-01")
        with freeze_time("2027-02-15"):
            schedule.with_user(self.rep).action_billing_renew()
        self.assertEqual(schedule.date_end, date(2027, 6, 30))
        self.assertEqual(schedule.line_ids.price_unit, 100.0, "March is still the old term")
        self.assertEqual(self._run(schedule, "2027-03-01").amount_untaxed, 200.0)
        self.assertEqual(schedule.line_ids.price_unit, 95.0)
        self.assertEqual(self._run(schedule, "2027-04-01").amount_untaxed, 190.0)
        with freeze_time("2027-04-02"), self.assertRaises(AccessError):
            schedule.with_user(self.portal_user).action_billing_renew()
        open_ended = self._create_schedule(date_start=date(2027, 1, 1))
        open_ended.action_start()
        with self.assertRaisesRegex(UserError, "no fixed term"):
            open_ended.action_billing_renew()

    def test_renewal_notice_once_per_term(self):
        schedule = self._term(auto_renew=True)
        Schedule = self.env["crm.billing.schedule"]
        with freeze_time("2027-02-28"):
            self.assertNotIn(schedule, Schedule._get_renewal_notices_due(date(2027, 2, 28)))
        with freeze_time("2027-03-01"):
            due = Schedule._get_renewal_notices_due(date(2027, 3, 1))
            self.assertIn(schedule, due)
            schedule._billing_send_renewal_notice()
        activity = schedule.activity_ids
        self.assertEqual(activity.user_id, self.rep)
        self.assertEqual(activity.date_deadline, date(2027, 3, 31))
        self.assertIn("Renewal of", activity.summary)
        mail = schedule.message_ids.filtered(lambda m: "ends on" in (m.subject or ""))
        self.assertEqual(len(mail), 1)
        self.assertIn(self.customer, mail.partner_ids)
        self.assertIn("renews automatically", mail.body)
        with freeze_time("2027-03-02"):
            self.assertNotIn(schedule, Schedule._get_renewal_notices_due(date(2027, 3, 2)))
        # the next term is told again, in its own time
        for day in ("2027-01-01", "2027-03-01"):
            self._run(schedule, day)
        self.assertEqual(schedule.date_end, date(2027, 6, 30))
        self.assertNotIn(schedule, Schedule._get_renewal_notices_due(date(2027, 5, 30)))
        self.assertIn(schedule, Schedule._get_renewal_notices_due(date(2027, 5, 31)))

    # --- Renewal quotation ---

    def _quotation(self, schedule, day):
        with freeze_time(day):
            action = schedule.with_user(self.rep).action_billing_renewal_quotation()
        return self.env["sale.order"].browse(action["res_id"])

    def test_renewal_quotation_renews_with_its_prices(self):
        schedule = self._term(renewal_price_change=10.0)
        self._run(schedule, "2027-02-01")
        order = self._quotation(schedule, "2027-02-15")
        self.assertEqual(order.state, "draft")
        self.assertEqual(order.partner_id, self.customer)
        self.assertEqual(order.billing_renewal_schedule_id, schedule)
        self.assertEqual(order.billing_renewal_date_end, date(2027, 3, 31))
        self.assertEqual(
            [(ol.product_id, ol.product_uom_qty, ol.price_unit) for ol in order.order_line],
            [(self.product_sub, 2.0, 110.0)],
            "the schedule's lines at the renewal price",
        )
        self.assertEqual(order.order_line.tax_ids, self.tax_sale_a)
        with self.assertRaisesRegex(UserError, "already has a renewal quotation"):
            self._quotation(schedule, "2027-02-16")
        self.assertEqual(len(schedule.with_user(self.rep).renewal_order_ids), 1)
        # the salesperson negotiates: a lower price, one more product
        extra = self._create_product(name="Support plan", lst_price=30.0, taxes_id=False)
        order = order.with_user(self.rep)
        order.order_line.price_unit = 105.0
        order.order_line = [
            Command.create({"product_id": extra.id, "product_uom_qty": 1, "price_unit": 30.0})
        ]
        with freeze_time("2027-02-20"):
            order.with_user(self.rep).action_confirm()
        self.assertEqual(order.state, "sale")
        self.assertEqual(schedule.date_end, date(2027, 6, 30))
        self.assertEqual(schedule.renewal_order_id, order)
        self.assertEqual(schedule.renewal_count, 1)
        self.assertEqual(self._run(schedule, "2027-03-01").amount_untaxed, 200.0, "old term")
        april = self._run(schedule, "2027-04-01")
        self.assertEqual(april.amount_untaxed, 240.0)  # 2 x 105 + 30
        self.assertEqual(sorted(april.invoice_line_ids.mapped("price_subtotal")), [30.0, 210.0])
        self.assertEqual(sorted(schedule.change_ids.mapped("source")), ["renewal", "renewal"])
        # the schedule invoices the renewed term; the order itself invoices nothing
        self.assertEqual(order.invoice_status, "no")
        self.assertFalse(order._get_invoiceable_lines())
        self.assertFalse(order.invoice_ids)

    def test_renewal_quotation_renews_its_term_once(self):
        schedule = self._term()
        order = self._quotation(schedule, "2027-02-15")
        with freeze_time("2027-02-16"):
            schedule.with_user(self.rep).action_billing_renew()
        self.assertEqual(schedule.date_end, date(2027, 6, 30))
        with freeze_time("2027-02-17"), self.assertRaisesRegex(UserError, "renewed since"):
            order.with_user(self.rep).action_confirm()
        self.assertEqual(order.state, "draft")
        self.assertEqual(schedule.date_end, date(2027, 6, 30), "not renewed twice")
        self.assertEqual(schedule.renewal_count, 1)
        # a quotation leaving a line out removes it from the new term
        order.with_user(self.rep).action_cancel()
        second = self._quotation(schedule, "2027-02-18")
        self.assertEqual(second.billing_renewal_date_end, date(2027, 6, 30))
        extra = self._create_product(name="Support plan", lst_price=30.0, taxes_id=False)
        second = second.with_user(self.rep)
        second.order_line = [
            Command.clear(),
            Command.create({"product_id": extra.id, "product_uom_qty": 1, "price_unit": 30.0}),
        ]
        with freeze_time("2027-02-19"):
            second.with_user(self.rep).action_confirm()
        for day in (
            "2027-01-01",
            "2027-02-01",
            "2027-03-01",
            "2027-04-01",
            "2027-05-01",
            "2027-06-01",
        ):
            self._run(schedule, day)
        july = self._run(schedule, "2027-07-01")
        self.assertEqual(july.invoice_line_ids.product_id, extra)
        self.assertEqual(july.amount_untaxed, 30.0)
        with freeze_time("2027-07-02"), self.assertRaises(AccessError):
            schedule.with_user(self.portal_user).action_billing_renewal_quotation()
