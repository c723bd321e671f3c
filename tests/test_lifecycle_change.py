# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import date
from fractions import Fraction

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, new_test_user, tagged

from ..models import billing_period_math as pm
from .common import BillingCommon


@tagged("post_install", "-at_install")
class TestScheduleChange(BillingCommon):
    """Changes with an effective date: prorated to the cent, never billed twice."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env.company
        cls.rep = new_test_user(
            cls.env,
            login="change_rep",
            groups="sales_team.group_sale_salesman",
            company_id=cls.company.id,
        )
        cls.accountant = new_test_user(
            cls.env,
            login="change_accountant",
            groups="account.group_account_invoice,crm_billing.group_billing_user",
            company_id=cls.company.id,
        )
        cls.portal_user = new_test_user(
            cls.env,
            login="change_portal",
            groups="base.group_portal",
            partner_id=cls.customer.id,
        )

    def _running(self, quantity=2, mode="prepaid", **vals):
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
            **vals,
        )
        schedule.action_start()
        return schedule

    def _change(self, schedule, day, quantity, **kw):
        with freeze_time(day):
            return schedule._apply_billing_changes(
                day, [{"line": schedule.line_ids[:1], "quantity": quantity}], **kw
            )

    def _invoice(self, schedule, day):
        with freeze_time(day):
            return schedule._generate_invoices()

    # --- Plain arithmetic ---

    def test_period_share(self):
        self.assertEqual(
            pm.period_share(date(2027, 1, 1), date(2027, 1, 31), 1, day_from=date(2027, 1, 16)),
            Fraction(16, 31),
        )
        self.assertEqual(
            pm.period_share(date(2027, 1, 1), date(2027, 1, 31), 1, day_to=date(2027, 1, 15)),
            Fraction(15, 31),
        )
        # a prorated period (15 of 31 days) keeps the full period's length
        self.assertEqual(
            pm.period_share(
                date(2027, 1, 17), date(2027, 1, 31), Fraction(15, 31), day_from=date(2027, 1, 20)
            ),
            Fraction(12, 31),
        )
        self.assertEqual(
            pm.period_share(date(2027, 1, 1), date(2027, 1, 31), 1, day_from=date(2027, 2, 1)), 0
        )
        self.assertEqual(
            pm.period_at(date(2028, 2, 29), date(2028, 1, 31), "monthly").date_start,
            date(2028, 2, 29),
        )
        self.assertIsNone(pm.period_at(date(2026, 12, 31), date(2027, 1, 1), "monthly"))

    # --- Prepaid ---

    def test_prepaid_upgrade_mid_period(self):
        schedule = self._running()
        self._invoice(schedule, "2027-01-01")
        change = self._change(schedule, "2027-01-16", 5)
        # 3 more seats at 100.00 for 16 of January's 31 days: 300 * 16 / 31 = 154.838...
        move = change.move_id
        self.assertEqual(move.move_type, "out_invoice")
        self.assertEqual(move.state, "posted")
        self.assertEqual(move.amount_untaxed, 154.84)
        self.assertEqual(move.amount_tax, 23.23)
        self.assertEqual(move.invoice_date, date(2027, 1, 16))
        self.assertIn("from 01/16/2027 to 01/31/2027 (16 of 31 days)", move.invoice_line_ids.name)
        self.assertEqual(change.change_type, "upgrade")
        self.assertEqual((change.old_quantity, change.new_quantity), (2, 5))
        self.assertEqual((change.old_subtotal, change.new_subtotal), (200.0, 500.0))
        self.assertEqual(change.amount, 154.84)
        self.assertEqual(change.user_id, self.env.user)
        self.assertEqual(schedule.line_ids.quantity, 5)
        february = self._invoice(schedule, "2027-02-01")
        self.assertEqual(february.amount_untaxed, 500.0)
        self.assertEqual(schedule.change_count, 1)

    def test_prepaid_downgrade_mid_period_credits_unused_days(self):
        schedule = self._running(quantity=5)
        self._invoice(schedule, "2027-01-01")
        change = self._change(schedule, "2027-01-16", 2)
        move = change.move_id
        self.assertEqual(move.move_type, "out_refund")
        self.assertEqual(move.state, "posted")
        self.assertEqual(move.amount_untaxed, 154.84)
        self.assertEqual(move.amount_total, 178.07)
        self.assertEqual(change.amount, -154.84)
        self.assertEqual(change.change_type, "downgrade")
        self.assertEqual(self._invoice(schedule, "2027-02-01").amount_untaxed, 200.0)

    def test_upgrade_on_next_invoice_when_the_company_says_so(self):
        self.company.billing_upgrade_invoicing = "next_invoice"
        schedule = self._running()
        self._invoice(schedule, "2027-01-01")
        change = self._change(schedule, "2027-01-16", 5)
        self.assertFalse(change.move_id)
        self.assertEqual(change.next_invoice_amount, 154.84)
        self.assertEqual(change.next_invoice_period_start, date(2027, 2, 1))
        february = self._invoice(schedule, "2027-02-01")
        self.assertEqual(february.amount_untaxed, 654.84)
        self.assertEqual(change.next_invoice_id, february)
        # carried once: March is the plain new price
        self.assertEqual(self._invoice(schedule, "2027-03-01").amount_untaxed, 500.0)
        # a downgrade is still credited at once
        credit = self._change(schedule, "2027-03-16", 4)
        self.assertEqual(credit.move_id.move_type, "out_refund")
        self.assertEqual(credit.move_id.amount_untaxed, 51.61)  # 100 * 16 / 31

    # --- Postpaid ---

    def test_postpaid_upgrade_mid_period(self):
        schedule = self._running(mode="postpaid")
        change = self._change(schedule, "2027-01-16", 5)
        self.assertFalse(change.move_id, "nothing invoiced yet: the next invoice says it all")
        # January's invoice bills 5 seats for the month, less 3 seats for 15 days
        self.assertEqual(change.next_invoice_amount, -145.16)
        january = self._invoice(schedule, "2027-01-31")
        # 200 * 15/31 + 500 * 16/31 = 96.77 + 258.06
        self.assertEqual(january.amount_untaxed, 354.84)
        self.assertEqual(change.next_invoice_id, january)
        self.assertEqual(self._invoice(schedule, "2027-02-28").amount_untaxed, 500.0)

    def test_postpaid_downgrade_mid_period(self):
        schedule = self._running(quantity=5, mode="postpaid")
        change = self._change(schedule, "2027-01-16", 2)
        self.assertFalse(change.move_id)
        january = self._invoice(schedule, "2027-01-31")
        # 500 * 15/31 + 200 * 16/31 = 241.94 + 103.23
        self.assertEqual(january.amount_untaxed, 345.16)
        self.assertEqual(january.move_type, "out_invoice")

    def test_postpaid_change_in_an_invoiced_period_is_corrected(self):
        schedule = self._running(mode="postpaid")
        self._invoice(schedule, "2027-01-31")
        change = self._change(schedule, "2027-01-31", 3)
        # the last day of an invoiced period: one more seat for 1 of 31 days
        self.assertEqual(change.move_id.amount_untaxed, 3.23)
        self.assertEqual(self._invoice(schedule, "2027-02-28").amount_untaxed, 300.0)

    # --- Never twice ---

    def test_two_changes_in_one_period_bill_their_own_delta(self):
        schedule = self._running()
        self._invoice(schedule, "2027-01-01")
        first = self._change(schedule, "2027-01-11", 4)
        second = self._change(schedule, "2027-01-21", 3)
        self.assertEqual(first.move_id.move_type, "out_invoice")
        self.assertEqual(first.move_id.amount_untaxed, 135.48)  # 200 * 21/31
        self.assertEqual(second.move_id.move_type, "out_refund")
        self.assertEqual(second.move_id.amount_untaxed, 35.48)  # 100 * 11/31
        self.assertEqual((second.old_quantity, second.new_quantity), (4, 3))
        # January in all: 2 seats 10 days, 4 seats 10 days, 3 seats 11 days = 300.00
        january = schedule.invoice_ids.filtered(lambda m: m.billing_period_id)
        self.assertEqual(
            january.amount_untaxed + first.move_id.amount_untaxed - second.move_id.amount_untaxed,
            300.0,
        )
        self.assertEqual(len(schedule.invoice_ids), 3)
        # changes go in date order
        with self.assertRaisesRegex(UserError, "already changed on 01/21/2027"):
            self._change(schedule, "2027-01-15", 6)
        self.assertEqual(schedule.line_ids.quantity, 3)

    def test_change_before_last_invoiced_period_needs_its_correction(self):
        schedule = self._running()
        self._invoice(schedule, "2027-02-01")  # January and February
        with self.assertRaisesRegex(UserError, "invoiced up to 02/28/2027"):
            self._change(schedule, "2027-01-16", 3)
        self.assertEqual(schedule.line_ids.quantity, 2)
        self.assertFalse(schedule.change_ids)
        change = self._change(schedule, "2027-01-16", 3, correct_invoiced=True)
        move = change.move_id
        # one seat for 16 of 31 January days and for all of February
        self.assertEqual(move.amount_untaxed, 151.61)
        self.assertEqual(len(move.invoice_line_ids), 2)
        self.assertEqual(sorted(move.invoice_line_ids.mapped("price_unit")), [51.61, 100.0])

    def test_change_in_a_period_not_yet_invoiced_changes_the_next_invoice(self):
        schedule = self._running()
        self._invoice(schedule, "2027-01-01")
        change = self._change(schedule, "2027-02-01", 4)
        self.assertFalse(change.move_id)
        self.assertFalse(change.next_invoice_amount)
        self.assertEqual(self._invoice(schedule, "2027-02-01").amount_untaxed, 400.0)

    def test_bad_changes_are_refused(self):
        schedule = self._running()
        self._invoice(schedule, "2027-01-01")
        line = schedule.line_ids
        with freeze_time("2027-01-16"):
            with self.assertRaisesRegex(ValidationError, "quantity cannot be negative"):
                schedule._apply_billing_changes("2027-01-16", [{"line": line, "quantity": -1}])
            with self.assertRaisesRegex(ValidationError, "outside it"):
                schedule._apply_billing_changes("2026-12-31", [{"line": line, "quantity": 3}])
            with self.assertRaisesRegex(UserError, "periods before 03/10/2027 still to invoice"):
                schedule._apply_billing_changes("2027-03-10", [{"line": line, "quantity": 3}])
            with self.assertRaisesRegex(UserError, "Nothing changes"):
                schedule._apply_billing_changes("2027-01-16", [{"line": line, "quantity": 2}])
        self.assertFalse(schedule.change_ids)
        schedule.action_cancel()
        with self.assertRaisesRegex(UserError, "has ended"):
            schedule.action_open_change_wizard()

    # --- The wizard ---

    def test_wizard_adds_and_removes_lines_with_a_preview(self):
        schedule = self._running()
        self._invoice(schedule, "2027-01-01")
        extra = self._create_product(name="Backup add-on", lst_price=50.0, taxes_id=self.tax_sale_a)
        with freeze_time("2027-01-16"):
            wizard_form = Form(
                self.env["crm.billing.change.wizard"].with_context(default_schedule_id=schedule.id)
            )
            self.assertEqual(len(wizard_form.line_ids), 1)
            with wizard_form.line_ids.new() as new_line:
                new_line.product_id = extra
                new_line.quantity = 1
            self.assertEqual(wizard_form.amount_now, 25.81)  # 50 * 16/31
            wizard = wizard_form.save()
            action = wizard.action_apply()
        move = self.env["account.move"].browse(action["res_id"])
        self.assertEqual(move.amount_untaxed, 25.81)
        new = schedule.line_ids.filtered(lambda line: line.product_id == extra)
        self.assertEqual((new.quantity, new.price_unit), (1, 50.0))
        self.assertEqual(new.tax_ids, self.tax_sale_a)
        self.assertEqual(schedule.change_ids.change_type, "new")
        with freeze_time("2027-01-21"):
            wizard = (
                self.env["crm.billing.change.wizard"]
                .with_context(default_schedule_id=schedule.id)
                .create({})
            )
            wizard.line_ids.filtered(lambda w: w.line_id == new).quantity = 0
            self.assertEqual(wizard.amount_now, -17.74)  # 50 * 11/31
            wizard.action_apply()
        removal = schedule.change_ids.filtered(lambda c: c.change_type == "removal")
        self.assertEqual(removal.move_id.move_type, "out_refund")
        self.assertEqual(removal.move_id.amount_untaxed, 17.74)
        self.assertEqual(self._invoice(schedule, "2027-02-01").amount_untaxed, 200.0)
        self.assertTrue(
            any("changed the schedule from" in body for body in schedule.message_ids.mapped("body"))
        )

    def test_removed_line_makes_no_invoice_line(self):
        schedule = self._running()
        extra = self._create_product(name="Backup add-on", lst_price=50.0, taxes_id=False)
        with freeze_time("2027-01-01"):
            schedule._apply_billing_changes(
                "2027-01-01",
                [
                    {
                        "product_id": extra.id,
                        "name": "Backup add-on",
                        "quantity": 1,
                        "price_unit": 50.0,
                    }
                ],
            )
        self.assertEqual(self._invoice(schedule, "2027-01-01").amount_untaxed, 250.0)
        backup = schedule.line_ids.filtered(lambda line: line.product_id == extra)
        with freeze_time("2027-01-21"):
            schedule._apply_billing_changes("2027-01-21", [{"line": backup, "quantity": 0}])
        removal = schedule.change_ids.filtered(lambda c: c.change_type == "removal")
        self.assertEqual(removal.move_id.amount_untaxed, 17.74)  # 50 * 11/31 credited
        for day in ("2027-02-01", "2027-03-01"):
            invoice = self._invoice(schedule, day)
            self.assertEqual(invoice.invoice_line_ids.product_id, self.product_sub)
            self.assertEqual(invoice.amount_untaxed, 200.0)
        # its history stays: the line, at 0, and the change that removed it
        self.assertEqual(backup.quantity, 0.0)
        self.assertEqual(
            (removal.line_id, removal.old_quantity, removal.new_quantity), (backup, 1, 0)
        )

    def test_line_removed_in_a_period_not_yet_invoiced(self):
        schedule = self._running(mode="postpaid")
        extra = self._create_product(name="Backup add-on", lst_price=62.0, taxes_id=False)
        with freeze_time("2027-01-01"):
            schedule._apply_billing_changes(
                "2027-01-01",
                [
                    {
                        "product_id": extra.id,
                        "name": "Backup add-on",
                        "quantity": 1,
                        "price_unit": 62.0,
                    }
                ],
            )
        backup = schedule.line_ids.filtered(lambda line: line.product_id == extra)
        with freeze_time("2027-01-16"):
            schedule._apply_billing_changes("2027-01-16", [{"line": backup, "quantity": 0}])
        january = self._invoice(schedule, "2027-01-31")
        # the seats, and the add-on's 15 days before its removal: no line at quantity 0
        self.assertEqual(january.amount_untaxed, 230.0)  # 200 + 62 * 15/31
        self.assertFalse(january.invoice_line_ids.filtered(lambda line: not line.quantity))
        self.assertEqual(self._invoice(schedule, "2027-02-28").amount_untaxed, 200.0)

    # --- Who may ---

    def test_rights(self):
        schedule = self._running(user_id=self.rep.id)
        self._invoice(schedule, "2027-01-01")
        # a sales rep changes the schedule; the prorated invoice waits for accounting
        with freeze_time("2027-01-16"):
            change = schedule.with_user(self.rep)._apply_billing_changes(
                "2027-01-16", [{"line": schedule.line_ids, "quantity": 3}]
            )
        self.assertEqual(change.user_id, self.rep)
        self.assertEqual(change.sudo().move_id.state, "draft")
        self.assertEqual(change.sudo().move_id.amount_untaxed, 51.61)
        # history is nobody's to rewrite
        with self.assertRaises(AccessError):
            change.with_user(self.rep).write({"new_quantity": 30})
        with self.assertRaises(AccessError):
            self.env["crm.billing.change"].with_user(self.rep).create(
                {"schedule_id": schedule.id, "line_id": schedule.line_ids.id, "date": "2027-01-16"}
            )
        with self.assertRaises(AccessError):
            change.with_user(self.accountant).unlink()
        # an accountant's change is posted at once
        with freeze_time("2027-01-21"):
            change = schedule.with_user(self.accountant)._apply_billing_changes(
                "2027-01-21", [{"line": schedule.line_ids, "quantity": 4}]
            )
        self.assertEqual(change.move_id.state, "posted")
        self.assertEqual(change.move_id.amount_untaxed, 35.48)
        # a portal customer cannot change its schedule over the ORM
        with freeze_time("2027-01-25"), self.assertRaises(AccessError):
            schedule.with_user(self.portal_user)._apply_billing_changes(
                "2027-01-25", [{"line": schedule.line_ids, "quantity": 9}]
            )
        with self.assertRaises(AccessError):
            self.env["crm.billing.change.wizard"].with_user(self.portal_user).create(
                {"schedule_id": schedule.id}
            )
        self.assertEqual(schedule.line_ids.quantity, 4)
        # the customer sees its own history, read-only
        self.assertEqual(len(schedule.with_user(self.portal_user).change_ids), 2)
        # another sales rep does not see this rep's changes
        other = new_test_user(
            self.env, login="change_other_rep", groups="sales_team.group_sale_salesman"
        )
        self.assertFalse(
            self.env["crm.billing.change"]
            .with_user(other)
            .search([("schedule_id", "=", schedule.id)])
        )
