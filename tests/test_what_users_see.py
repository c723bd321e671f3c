# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import date, timedelta

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import HttpCase, tagged

from .common import BillingCommon
from .test_sales_flow import SalesFlowCommon


@tagged("post_install", "-at_install")
class TestReportFigures(BillingCommon):
    """The billing reports show figures that mean something."""

    @freeze_time("2027-03-15")
    def test_mrr_levels_are_not_added_across_months(self):
        schedule = self._create_schedule(date_start=date(2027, 1, 1))
        schedule.action_start()
        Movement = self.env["crm.billing.mrr.movement.report"]
        months = Movement.search([("partner_id", "=", self.customer.id)])
        # January (new), February and March: 100.00 of MRR each month
        self.assertEqual(months.mapped("mrr"), [100.0, 100.0, 100.0])
        [total] = Movement.read_group(
            [("partner_id", "=", self.customer.id)], ["mrr", "new_mrr", "net_new_mrr"], []
        )
        # the movements add up (one new customer: +100.00), the levels are not summed
        # into a "Total MRR" of 300.00
        self.assertEqual(total["new_mrr"], 100.0)
        self.assertEqual(total["net_new_mrr"], 100.0)
        self.assertNotIn("mrr", total)
        pivot = Movement.get_views([(False, "pivot")])["views"]["pivot"]["arch"]
        self.assertNotIn('name="mrr"', pivot)

    @freeze_time("2027-03-15")
    def test_ageing_lists_customer_invoices_only(self):
        not_due = self.init_invoice(
            "out_invoice", partner=self.customer, invoice_date=date(2027, 3, 10), amounts=[100.0]
        )
        not_due.invoice_date_due = date(2027, 4, 9)
        late = self.init_invoice(
            "out_invoice", partner=self.customer, invoice_date=date(2027, 1, 1), amounts=[200.0]
        )
        late.invoice_date_due = date(2027, 1, 31)
        credit = self.init_invoice(
            "out_refund", partner=self.customer, invoice_date=date(2027, 3, 1), amounts=[50.0]
        )
        (not_due + late + credit).action_post()
        receivable = late.line_ids.filtered(
            lambda line: line.account_id.account_type == "asset_receivable"
        ).account_id
        misc = self.env["account.move"].create(
            {
                "move_type": "entry",
                "date": date(2027, 2, 1),
                "line_ids": [
                    Command.create(
                        {
                            "account_id": receivable.id,
                            "partner_id": self.customer.id,
                            "debit": 30.0,
                        }
                    ),
                    Command.create(
                        {
                            "account_id": self.company_data["default_account_revenue"].id,
                            "credit": 30.0,
                        }
                    ),
                ],
            }
        )
        misc.action_post()
        rows = self.env["crm.billing.ageing.report"].search(
            [("partner_id", "=", self.customer.id)], order="date_maturity"
        )
        self.assertEqual(rows.move_id, late + not_due)
        self.assertEqual(rows.mapped("days_overdue"), [43, 0])
        self.assertEqual(rows.mapped("bucket"), ["31_60", "current"])
        self.assertEqual(rows.mapped("amount_residual"), [200.0, 100.0])


@tagged("post_install", "-at_install")
class TestWords(BillingCommon):
    def test_recurrence_in_words(self):
        cases = [
            ("monthly", 1, "Monthly"),
            ("monthly", 2, "Every 2 months"),
            ("yearly", 1, "Yearly"),
            ("weekly", 3, "Every 3 weeks"),
            ("quarterly", 1, "Quarterly"),
            ("daily", 10, "Every 10 days"),
        ]
        for rule_type, interval, label in cases:
            schedule = self._create_schedule(rule_type=rule_type, interval=interval)
            self.assertEqual(schedule.recurrence_label, label)
        plan = self._create_schedule(
            schedule_type="instalment",
            lines=[
                {
                    "product_id": self.product_sub.id,
                    "name": "Deposit",
                    "quantity": 1,
                    "price_unit": 100.0,
                    "date": date(2027, 1, 1),
                }
            ],
        )
        self.assertEqual(plan.recurrence_label, "In instalments")

    def test_schedule_named_after_the_company(self):
        contact = self.env["res.partner"].create(
            {"name": "Ann Accounts", "parent_id": self.customer.id, "type": "invoice"}
        )
        schedule = self._create_schedule(partner_id=contact.id)
        self.assertEqual(schedule.display_name, f"{schedule.name} - Marlowe Consulting")


@tagged("post_install", "-at_install")
class TestScheduleChatter(BillingCommon):
    def _bodies(self, schedule):
        return [m.body for m in schedule.message_ids.filtered(lambda m: m.body)]

    @freeze_time("2027-04-10")
    def test_one_message_per_run(self):
        schedule = self._create_schedule(date_start=date(2027, 1, 1))
        schedule.action_start()
        before = len(schedule.message_ids)
        # a catch-up of four periods (January to April) in one run: one message
        invoices = schedule.sudo()._generate_invoices()
        self.assertEqual(len(invoices), 4)
        new_messages = schedule.message_ids[: len(schedule.message_ids) - before]
        self.assertEqual(len(new_messages), 1)
        self.assertIn("4 invoices made", new_messages.body)
        for invoice in invoices:
            self.assertIn(invoice.name, new_messages.body)
        # the next run makes the May invoice: its own message
        with freeze_time("2027-05-01"):
            [may] = schedule.sudo()._generate_invoices()
        last = schedule.message_ids[0]
        self.assertIn("Invoiced:", last.body)
        self.assertIn(may.name, last.body)

    def test_state_changes_are_logged(self):
        # the test class turns tracking off; a user's session has it on
        schedule = self._create_schedule(date_start=date(2027, 1, 1)).with_context(
            tracking_disable=False, mail_notrack=False
        )
        self.env.cr.precommit.run()  # created in an earlier transaction
        for action in ("action_start", "action_pause", "action_resume", "action_cancel"):
            getattr(schedule, action)()
            # tracking messages are written when the transaction commits
            self.env.cr.precommit.run()
        states = [
            (value.old_value_char, value.new_value_char)
            for value in schedule.message_ids.tracking_value_ids.filtered(
                lambda v: v.field_id.name == "state"
            ).sorted("id")
        ]
        self.assertEqual(
            states,
            [
                ("Draft", "Running"),
                ("Running", "Paused"),
                ("Paused", "Running"),
                ("Running", "Cancelled"),
            ],
        )


@tagged("post_install", "-at_install")
class TestBillingPlanButton(SalesFlowCommon, HttpCase):
    @freeze_time("2027-01-31 10:00:00")
    def test_quotation_asks_to_confirm_first(self):
        order = self._order(confirm=False)
        with self.assertRaisesRegex(UserError, "Confirm quotation .* before billing it"):
            order.with_user(self.rep).action_create_billing_schedule()

    @freeze_time("2027-01-31 10:00:00")
    def test_planned_order_says_so(self):
        order = self._order()
        self._plan(order, [(date(2027, 1, 31), 30.0), (date(2027, 3, 1), 70.0)])
        plan = order.billing_schedule_ids
        with self.assertRaisesRegex(UserError, f"already planned by {plan.name}"):
            order.with_user(self.rep).action_create_billing_schedule()
        # once the plan is cancelled, the balance is unplanned again
        plan.with_user(self.rep).action_cancel()
        action = order.with_user(self.rep).action_create_billing_schedule()
        self.assertEqual(action["res_model"], "crm.billing.schedule.wizard")

    @freeze_time("2027-01-31 10:00:00")
    def test_fully_invoiced_order_says_so(self):
        order = self._order()
        self._plan(order, [(date(2027, 1, 31), 30.0), (date(2027, 1, 31), 70.0)])
        self.assertEqual(order.invoice_status, "invoiced")
        with self.assertRaisesRegex(UserError, "already fully invoiced"):
            order.with_user(self.rep).action_create_billing_schedule()

    def test_planned_order_tour(self):
        order = self._order()
        today = date.today()
        self._plan(order, [(today, 30.0), (today + timedelta(days=30), 70.0)])
        self.start_tour(
            f"/odoo/orders/{order.id}",
            "crm_billing_planned_order_tour",
            login=self.rep.login,
            timeout=300,
        )


@tagged("post_install", "-at_install")
class TestDueDates(BillingCommon):
    @freeze_time("2027-04-10")
    def test_catch_up_invoices_fall_due_on_their_date(self):
        """Without payment terms an invoice is due on its date: a period invoiced
        late is overdue at once, and the reminders see it."""
        schedule = self._create_schedule(date_start=date(2027, 1, 1))
        schedule.action_start()
        invoices = schedule.sudo()._generate_invoices().sorted("invoice_date")
        self.assertEqual(
            invoices.mapped("invoice_date_due"),
            [date(2027, 1, 1), date(2027, 2, 1), date(2027, 3, 1), date(2027, 4, 1)],
        )
        self.assertEqual(self.customer.billing_overdue_amount, 460.0)

    @freeze_time("2027-04-10")
    def test_payment_terms_still_apply(self):
        term = self.env.ref("account.account_payment_term_30days")
        schedule = self._create_schedule(date_start=date(2027, 3, 1), payment_term_id=term.id)
        schedule.action_start()
        invoices = schedule.sudo()._generate_invoices().sorted("invoice_date")
        self.assertEqual(invoices.mapped("invoice_date_due"), [date(2027, 3, 31), date(2027, 5, 1)])


@tagged("post_install", "-at_install")
class TestOrderButtons(SalesFlowCommon):
    @freeze_time("2027-01-31 10:00:00")
    def test_create_invoice_steps_aside_for_a_plan(self):
        order = self._order()
        self.assertFalse(order.billing_plan_active)
        self._plan(order, [(date(2027, 1, 31), 30.0), (date(2027, 3, 1), 70.0)])
        order.invalidate_recordset()
        self.assertTrue(order.billing_plan_active)
        self.assertEqual(order.billing_schedule_count, 1)
        arch = order.get_views([(False, "form")])["views"]["form"]["arch"]
        self.assertIn('id="create_invoice_billing_plan"', arch)
        order.billing_schedule_ids.action_cancel()
        order.invalidate_recordset()
        self.assertFalse(order.billing_plan_active)
