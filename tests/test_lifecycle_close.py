# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import date

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from .common import BillingCommon


@tagged("post_install", "-at_install")
class TestScheduleClose(BillingCommon):
    """Closing with a reason: now or at the end of the period, with or without
    crediting the unused days."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.reason = cls.env.ref("crm_billing.close_reason_too_expensive")
        cls.rep = new_test_user(cls.env, login="close_rep", groups="sales_team.group_sale_salesman")
        cls.manager = new_test_user(
            cls.env, login="close_manager", groups="crm_billing.group_billing_manager"
        )
        cls.portal_user = new_test_user(
            cls.env, login="close_portal", groups="base.group_portal", partner_id=cls.customer.id
        )

    def _running(self, mode="prepaid", quantity=2):
        schedule = self._create_schedule(
            lines=[
                {
                    "product_id": self.product_sub.id,
                    "name": "Seats",
                    "quantity": quantity,
                    "price_unit": 100.0,
                    "tax_ids": [Command.set(self.tax_sale_a.ids)],
                }
            ],
            date_start=date(2027, 1, 1),
            invoicing_mode=mode,
            # the rep's own schedule: sales reps edit their own documents only
            user_id=self.rep.id,
        )
        schedule.action_start()
        return schedule

    def _close(self, schedules, day, when="now", credit_unused=None, user=None):
        with freeze_time(day):
            wizard = (
                self.env["crm.billing.close.wizard"]
                .with_user(user or self.env.user)
                .with_context(active_model="crm.billing.schedule", active_ids=schedules.ids)
                .create({"reason_id": self.reason.id, "when": when})
            )
            if credit_unused is not None:
                wizard.credit_unused = credit_unused
            wizard.action_close()

    def test_close_now_prepaid_credits_unused_days(self):
        schedule = self._running()
        with freeze_time("2027-01-01"):
            schedule._generate_invoices()
        self._close(schedule, "2027-01-16", credit_unused=True)
        credit = schedule.invoice_ids.filtered(lambda m: m.move_type == "out_refund")
        # 2 seats for the 15 days after 16 January: 200 * 15/31
        self.assertEqual(credit.amount_untaxed, 96.77)
        self.assertEqual(credit.amount_total, 111.29)
        self.assertEqual(credit.state, "posted")
        self.assertIn(
            "unused after closing, from 01/17/2027 to 01/31/2027", credit.invoice_line_ids.name
        )
        self.assertEqual(schedule.state, "done")
        self.assertEqual(schedule.close_reason_id, self.reason)
        self.assertEqual(schedule.close_date, date(2027, 1, 16))
        self.assertEqual(schedule.date_end, date(2027, 1, 16))
        with freeze_time("2027-03-01"):
            self.assertFalse(schedule._generate_invoices())
        self.assertEqual(len(schedule.invoice_ids), 2)

    def test_close_now_prepaid_without_credit(self):
        self.env.company.billing_close_credit_unused = False
        schedule = self._running()
        with freeze_time("2027-01-01"):
            schedule._generate_invoices()
        self._close(schedule, "2027-01-16")
        self.assertEqual(schedule.invoice_ids.mapped("move_type"), ["out_invoice"])
        self.assertEqual(schedule.state, "done")
        with freeze_time("2027-02-01"):
            self.assertFalse(schedule._generate_invoices())

    def test_close_now_postpaid_invoices_the_days_served(self):
        schedule = self._running(mode="postpaid")
        self._close(schedule, "2027-01-16", credit_unused=True)
        invoice = schedule.invoice_ids
        self.assertEqual(invoice.move_type, "out_invoice")
        self.assertEqual(invoice.invoice_date, date(2027, 1, 16))
        # 16 of 31 days, prorated as the run prorates: 2 x 51.61
        self.assertEqual(invoice.amount_untaxed, 103.22)
        self.assertEqual(schedule.state, "done")

    def test_close_at_period_end_then_reactivate(self):
        schedule = self._running()
        with freeze_time("2027-01-01"):
            schedule._generate_invoices()
        self._close(schedule, "2027-01-16", when="period_end", credit_unused=True)
        self.assertEqual(schedule.state, "running")
        self.assertEqual(schedule.date_end, date(2027, 1, 31))
        self.assertEqual(schedule.close_date, date(2027, 1, 31))
        self.assertFalse(schedule.invoice_ids.filtered(lambda m: m.move_type == "out_refund"))
        with freeze_time("2027-01-20"):
            self.assertTrue(schedule.is_closing)
            with self.assertRaisesRegex(UserError, "already closes on 01/31/2027"):
                schedule._billing_close(self.reason, when="period_end")
            schedule.with_user(self.rep).action_billing_reactivate()
        self.assertFalse(schedule.date_end)
        self.assertFalse(schedule.close_reason_id)
        with freeze_time("2027-02-01"):
            self.assertEqual(schedule._generate_invoices().amount_untaxed, 200.0)

    def test_close_at_period_end_ends_with_the_period(self):
        first, second = self._running(), self._running(mode="postpaid")
        with freeze_time("2027-01-01"):
            first._generate_invoices()
        self._close(first | second, "2027-01-16", when="period_end")
        self.assertEqual((first | second).mapped("close_date"), [date(2027, 1, 31)] * 2)
        with freeze_time("2027-02-01"):
            invoices = (first | second)._generate_invoices()
        self.assertEqual(invoices.billing_schedule_id, second, "postpaid January, nothing more")
        self.assertEqual(invoices.amount_untaxed, 200.0)
        self.assertEqual((first | second).mapped("state"), ["done", "done"])
        with freeze_time("2027-02-02"), self.assertRaisesRegex(UserError, "is not closing"):
            first.action_billing_reactivate()

    def test_rights(self):
        schedule = self._running()
        with self.assertRaises(AccessError):
            self.env["crm.billing.close.reason"].with_user(self.rep).create({"name": "Moved"})
        reason = (
            self.env["crm.billing.close.reason"]
            .with_user(self.manager)
            .create({"name": "Moved abroad"})
        )
        self.assertTrue(reason.with_user(self.rep).name)
        with freeze_time("2027-01-16"), self.assertRaises(AccessError):
            schedule.with_user(self.portal_user)._billing_close(self.reason, when="period_end")
        with self.assertRaises(AccessError):
            self.env["crm.billing.close.wizard"].with_user(self.portal_user).create(
                {"schedule_ids": [Command.set(schedule.ids)], "reason_id": self.reason.id}
            )
        self._close(schedule, "2027-01-16", when="period_end", user=self.rep)
        self.assertEqual(schedule.close_reason_id, self.reason)
