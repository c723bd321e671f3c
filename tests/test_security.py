# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Who may do what, tried as each role would over JSON-RPC (``with_user``, values no
form would send), and the holes a client or an unlucky run could open."""

from datetime import date, timedelta

import psycopg2
from dateutil.relativedelta import relativedelta
from freezegun import freeze_time

from odoo import SUPERUSER_ID, Command, api, fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.orm.environments import Transaction
from odoo.tests import TransactionCase, new_test_user, tagged
from odoo.tools import date_utils, mute_logger

from odoo.addons.account.tests.common import AccountTestInvoicingHttpCommon

from .common import BillingCommon
from .test_sales_flow import SalesFlowCommon


@tagged("post_install", "-at_install")
class TestInvoicedHistory(BillingCommon):
    """What was invoiced stays as it was invoiced."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.manager = new_test_user(
            cls.env,
            login="sec_hist_mgr",
            groups="sales_team.group_sale_salesman,crm_billing.group_billing_manager",
        )
        cls.plan = cls._create_schedule(
            schedule_type="instalment",
            auto_post=False,
            date_start=date(2027, 1, 10),
            lines=[
                {"name": "Deposit", "date": date(2027, 1, 10), "price_unit": 300.0},
                {"name": "Balance", "date": date(2027, 3, 10), "price_unit": 700.0},
            ],
        )
        cls.plan.action_start()
        cls.invoice = cls.plan._generate_invoices(date(2027, 1, 31), raise_errors=True)
        cls.deposit, cls.balance = cls.plan.line_ids.sorted("date")

    def test_invoiced_instalment_is_frozen(self):
        self.assertEqual(self.deposit.invoice_id, self.invoice)
        deposit = self.deposit.with_user(self.manager)
        for vals in (
            {"date": date(2027, 2, 1)},
            {"price_unit": 1.0},
            {"quantity": 2.0},
            {"amount": 5.0},
        ):
            with self.assertRaisesRegex(UserError, "is invoiced"):
                deposit.write(vals)
        with self.assertRaisesRegex(UserError, "is invoiced"):
            deposit.unlink()
        with self.assertRaisesRegex(UserError, "billing run only"):
            self.balance.with_user(self.manager).write({"invoice_id": self.invoice.id})
        # the name may be corrected; the rest is as invoiced, and nothing is due twice
        deposit.name = "Deposit (30%)"
        self.assertEqual(self.deposit.date, date(2027, 1, 10))
        self.assertFalse(self.plan._generate_invoices(date(2027, 2, 28)))

    def test_pending_instalment_cannot_take_an_invoiced_day(self):
        with self.assertRaisesRegex(ValidationError, "already invoiced its instalment"):
            self.balance.with_user(self.manager).date = date(2027, 1, 10)
        with (
            self.assertRaisesRegex(ValidationError, "already invoiced its instalment"),
            self.env.cr.savepoint(),
        ):
            self.plan.with_user(self.manager).write(
                {
                    "line_ids": [
                        Command.create(
                            {"name": "Extra", "date": date(2027, 1, 10), "price_unit": 9.0}
                        )
                    ]
                }
            )
        # another day is fine, and is invoiced when due
        self.balance.with_user(self.manager).date = date(2027, 2, 10)
        second = self.plan._generate_invoices(date(2027, 2, 10))
        self.assertEqual(second.amount_untaxed, 700.0)

    def test_invoiced_period_cannot_change_or_go(self):
        period = self.plan.period_ids.with_user(self.manager)
        self.assertEqual(len(period), 1)
        with self.assertRaisesRegex(UserError, "cannot be deleted"):
            period.unlink()
        for vals in ({"date_start": date(2027, 1, 11)}, {"invoice_id": False}):
            with self.assertRaisesRegex(UserError, "can no longer change"):
                period.write(vals)
        # a cancelled invoice frees its period
        self.invoice.button_cancel()
        period.unlink()
        self.assertFalse(period.exists())


@tagged("post_install", "-at_install")
class TestPlanWizardHardening(SalesFlowCommon):
    """The billing plan of an order, tried over RPC by a rep."""

    @freeze_time("2027-01-31 10:00:00")
    def test_rep_plan_is_not_posted(self):
        order = self._order()
        wizard = (
            self.Wizard.with_user(self.rep)
            .with_context(default_sale_order_id=order.id)
            .create({"billing_mode": "instalment"})
        )
        self.assertFalse(wizard.auto_post)
        wizard.auto_post = True
        with self.assertRaisesRegex(AccessError, "Invoicing rights"), self.env.cr.savepoint():
            wizard.action_confirm()
        self.assertFalse(order.billing_schedule_ids)
        wizard.auto_post = False
        wizard.action_confirm()
        deposit = order.billing_schedule_ids.invoice_ids
        self.assertEqual(len(deposit), 1)
        self.assertEqual(deposit.state, "draft", "posted by the accountant, not by the rep")

    @freeze_time("2027-01-31 10:00:00")
    def test_order_lines_billed_once(self):
        recurring_product = self._create_product(
            name="Hosting", type="service", lst_price=50.0, taxes_id=False
        )
        order = self._order([(recurring_product, 1.0)])
        lines = order.order_line

        def bill(mode):
            return (
                self.Wizard.with_user(self.rep)
                .create(
                    {
                        "sale_order_id": order.id,
                        "billing_mode": mode,
                        "recurring_line_ids": [Command.set(lines.ids)],
                    }
                )
                .action_confirm()
            )

        bill("recurring")
        schedule = order.billing_schedule_ids
        self.assertEqual(len(schedule), 1)
        with self.assertRaisesRegex(ValidationError, "already billed by a recurring schedule"):
            bill("recurring")
        with self.assertRaisesRegex(UserError, "billed by recurring schedule"):
            bill("now")
        self.assertFalse(order.invoice_ids)
        # over RPC, without the wizard: the schedule line itself refuses
        with (
            self.assertRaisesRegex(ValidationError, "already billed by recurring schedule"),
            self.env.cr.savepoint(),
        ):
            self.env["crm.billing.schedule"].with_user(self.rep).create(
                order._prepare_billing_schedule_vals(lines)
            )
        # once cancelled, the lines may be billed otherwise
        schedule.with_user(self.rep).action_cancel()
        bill("now")
        self.assertEqual(len(order.invoice_ids), 1)
        with self.assertRaisesRegex(ValidationError, "already invoiced"):
            self.Wizard.with_user(self.rep).create(
                {
                    "sale_order_id": order.id,
                    "billing_mode": "recurring",
                    "recurring_line_ids": [Command.set(lines.ids)],
                }
            )._action_bill_recurring()


@tagged("post_install", "-at_install")
class TestManualReminderHardening(BillingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["crm.billing.reminder.level"]._create_default_levels(cls.env.company)
        cls.rep = new_test_user(
            cls.env, login="sec_reminder_rep", groups="sales_team.group_sale_salesman"
        )
        cls.today = fields.Date.context_today(cls.env.user)
        cls.invoice = cls.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": cls.customer.id,
                "invoice_user_id": cls.rep.id,
                "invoice_date": cls.today,
                "invoice_date_due": cls.today + timedelta(days=20),
                "invoice_payment_term_id": False,
                "invoice_line_ids": [
                    Command.create({"name": "Work", "price_unit": 500.0, "tax_ids": []})
                ],
            }
        )
        cls.invoice.action_post()

    def test_client_date_is_ignored(self):
        """A rep cannot send the final notice of an invoice not yet due by dating
        the wizard years ahead: manual sending happens today."""
        Wizard = self.env["crm.billing.reminder.send"].with_user(self.rep)
        wizard = Wizard.create(
            {
                "date": self.today + timedelta(days=3 * 365),
                "invoice_ids": [Command.set(self.invoice.ids)],
            }
        )
        self.assertEqual(wizard.date, self.today)
        with self.assertRaisesRegex(UserError, "Open the reminder window again"):
            wizard.write({"date": self.today + timedelta(days=3 * 365)})
        with self.assertRaisesRegex(UserError, "Nothing to send"):
            wizard.action_send()
        self.assertFalse(self.invoice.reminder_level_id)
        self.assertFalse(
            self.env["crm.billing.reminder"].search([("invoice_ids", "in", self.invoice.ids)])
        )

    def test_empty_scope_is_not_everyone(self):
        Wizard = self.env["crm.billing.reminder.send"].with_user(self.rep)
        with self.assertRaisesRegex(UserError, "Choose the customers or the invoices"):
            Wizard.create({})

    def test_scope_must_be_readable(self):
        other = new_test_user(
            self.env, login="sec_reminder_other", groups="sales_team.group_sale_salesman"
        )
        self.invoice.invoice_user_id = other
        with self.assertRaises(AccessError):
            self.env["crm.billing.reminder.send"].with_user(self.rep).create(
                {"invoice_ids": [Command.set(self.invoice.ids)]}
            )


@tagged("post_install", "-at_install")
class TestReceiptHardening(BillingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.accountant = new_test_user(
            cls.env, login="sec_receipt_acc", groups="account.group_account_manager"
        )
        cls.other_customer = cls.env["res.partner"].create({"name": "Someone Else"})
        cls.payment = cls._make_payment()

    @classmethod
    def _make_payment(cls, amount=150.0):
        payment = cls.env["account.payment"].create(
            {
                "payment_type": "inbound",
                "partner_type": "customer",
                "partner_id": cls.customer.id,
                "amount": amount,
                "date": date(2027, 3, 1),
                "journal_id": cls.company_data["default_journal_bank"].id,
            }
        )
        payment.action_post()
        return payment

    def test_receipt_fields_are_not_writable(self):
        self.payment._crm_billing_register_receipt_print()
        number = self.payment.receipt_number
        self.assertTrue(number)
        for vals in (
            {"receipt_print_count": 0},
            {"receipt_number": False},
            {"receipt_verification_code": "A" * 32},
        ):
            with self.assertRaisesRegex(AccessError, "cannot be set by hand"):
                self.payment.with_user(self.accountant).write(vals)
            # nor with the receipt code's context key, which any RPC call can pass
            with self.assertRaisesRegex(AccessError, "cannot be set by hand"):
                self.payment.with_user(self.accountant).with_context(
                    crm_billing_receipt_issuing=True
                ).write(vals)
        with self.assertRaisesRegex(AccessError, "cannot be set by hand"):
            self.env["account.payment"].with_user(self.accountant).create(
                {
                    "payment_type": "inbound",
                    "partner_id": self.customer.id,
                    "amount": 1.0,
                    "receipt_number": number,
                }
            )
        self.assertEqual(self.payment.receipt_print_count, 1)
        self.payment._crm_billing_register_receipt_print()
        self.assertEqual(self.payment.receipt_print_count, 2, "the second print is a copy")
        self.assertEqual(self.payment.receipt_number, number)

    def test_changed_payment_gets_a_new_code(self):
        Payment = self.env["account.payment"]
        self.payment._crm_billing_assign_receipt_number()
        old_code = self.payment.receipt_verification_code
        self.assertEqual(Payment._crm_billing_find_genuine_receipt(old_code), self.payment)
        # reset, moved to another payer, posted again
        self.payment.action_draft()
        self.payment.partner_id = self.other_customer
        self.payment.action_post()
        self.assertFalse(
            Payment._crm_billing_find_genuine_receipt(old_code),
            "the old code does not vouch for another payer",
        )
        self.payment._crm_billing_register_receipt_print()
        new_code = self.payment.receipt_verification_code
        self.assertNotEqual(new_code, old_code)
        self.assertEqual(Payment._crm_billing_find_genuine_receipt(new_code), self.payment)
        self.assertIn("new verification code", self.payment.message_ids[:1].body)

    def test_sequence_from_company_creation_and_unique_numbers(self):
        company = self.env["res.company"].create({"name": "Receipts Ltd"})
        sequence = self.env["ir.sequence"].search(
            [("code", "=", "crm.billing.receipt"), ("company_id", "=", company.id)]
        )
        self.assertEqual(len(sequence), 1)
        self.assertEqual(sequence.implementation, "no_gap")
        self.assertEqual(
            self.env["account.payment"]._crm_billing_receipt_sequence(company), sequence
        )
        other = self._make_payment(99.0)
        (self.payment | other)._crm_billing_assign_receipt_number()
        self.assertNotEqual(self.payment.receipt_number, other.receipt_number)
        with (
            self.assertRaises(psycopg2.errors.UniqueViolation),
            mute_logger("odoo.sql_db"),
            self.env.cr.savepoint(),
        ):
            self.env.cr.execute(
                "UPDATE account_payment SET receipt_number = %s WHERE id = %s",
                [self.payment.receipt_number, other.id],
            )

    def test_send_window_is_not_a_print(self):
        action = self.payment.action_send_receipt()
        self.assertTrue(self.payment.receipt_number, "numbered, so the message can quote it")
        # the receipt is rendered as in any test (HTML, no wkhtmltopdf), as a print
        Composer = self.env["mail.compose.message"].with_context(**action["context"])
        composer = Composer.create({})
        self.assertTrue(composer.attachment_ids, "the receipt is attached")
        self.assertEqual(self.payment.receipt_print_count, 0, "opening the window prints nothing")
        # cancelled: the window is closed, the transient composer left to the vacuum
        composer.invalidate_recordset()
        self.assertEqual(self.payment.receipt_print_count, 0)
        composer = Composer.create({})
        composer.action_send_mail()
        self.assertEqual(self.payment.receipt_print_count, 1, "sent: printed once")


@tagged("post_install", "-at_install")
class TestPortalRoutes(AccountTestInvoicingHttpCommon):
    """``/my/billing/<id>`` and its receipt route through the running server, for an
    own-documents salesperson and a portal customer."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        today = fields.Date.context_today(cls.env.user)
        cls.customer = cls.env["res.partner"].create(
            {"name": "Castor Ltd", "is_company": True, "street": "3 Pier", "city": "Cobh"}
        )
        cls.stranger = cls.env["res.partner"].create(
            {"name": "Pollux Stranger", "is_company": True, "street": "4 Pier", "city": "Cobh"}
        )
        cls.portal_user = new_test_user(
            cls.env,
            login="sec_portal_castor",
            password="sec_portal_castor_pw",
            groups="base.group_portal",
            name="Carla Castor",
            email="carla@castor.example.com",
        )
        cls.portal_user.partner_id.parent_id = cls.customer
        cls.rep = new_test_user(
            cls.env,
            login="sec_rep_own",
            password="sec_rep_own_pw",
            groups="sales_team.group_sale_salesman",
        )
        cls.other_rep = new_test_user(
            cls.env, login="sec_rep_other", groups="sales_team.group_sale_salesman"
        )
        product = cls._create_product(name="Mooring", lst_price=80.0, taxes_id=False)
        cls.schedule = cls.env["crm.billing.schedule"].create(
            {
                "partner_id": cls.customer.id,
                "user_id": cls.other_rep.id,
                "date_start": today - timedelta(days=40),
                "line_ids": [
                    Command.create({"product_id": product.id, "name": "Mooring", "price_unit": 80})
                ],
            }
        )
        cls.schedule.action_start()
        cls.schedule._generate_invoices(today, raise_errors=True)
        cls.invoice = cls.schedule.invoice_ids.sorted("id")[0]
        cls.payment = cls._register_payment(cls.invoice)
        # an invoice of someone else linked to the schedule (an import gone wrong)
        cls.foreign = cls.init_invoice(
            "out_invoice", partner=cls.stranger, amounts=[999.0], post=True
        )
        cls.foreign.billing_schedule_id = cls.schedule
        cls.foreign_payment = cls._register_payment(cls.foreign)
        cls.draft = cls.env["crm.billing.schedule"].create(
            {
                "partner_id": cls.customer.id,
                "line_ids": [Command.create({"name": "Draft work", "price_unit": 1.0})],
            }
        )

    def test_own_documents_rep_is_sent_to_the_backend(self):
        """Another rep's customer: no portal page, no invoice tokens; the backend
        then applies the rep's own rules."""
        self.authenticate("sec_rep_own", "sec_rep_own_pw")
        for url in (
            f"/my/billing/{self.schedule.id}",
            f"/my/billing/{self.schedule.id}/receipt/{self.payment.id}",
        ):
            response = self.url_open(url, allow_redirects=False)
            self.assertIn(response.status_code, (302, 303), url)
            self.assertIn("/odoo/", response.headers["Location"])
            self.assertNotIn(self.invoice.name, response.text)
            self.assertNotIn("access_token", response.text)
        with self.assertRaises(AccessError):
            self.schedule.with_user(self.rep).check_access("read")

    def test_portal_customer_sees_its_invoices_only(self):
        self.authenticate("sec_portal_castor", "sec_portal_castor_pw")
        response = self.url_open(f"/my/billing/{self.schedule.id}")
        self.assertEqual(response.status_code, 200)
        self.assertIn(self.invoice.name, response.text)
        self.assertNotIn(self.foreign.name, response.text)
        self.assertNotIn(self.foreign.access_token or "no-token", response.text)
        self.assertNotIn(self.foreign_payment.name, response.text)
        response = self.url_open(
            f"/my/billing/{self.schedule.id}/receipt/{self.foreign_payment.id}"
        )
        self.assertEqual(response.status_code, 404)

    def test_draft_is_never_shown(self):
        token = self.draft._portal_ensure_token()
        self.authenticate("sec_portal_castor", "sec_portal_castor_pw")
        for url in (f"/my/billing/{self.draft.id}", self.draft.get_portal_url()):
            response = self.url_open(url, allow_redirects=False)
            self.assertIn(response.status_code, (302, 303), url)
            self.assertNotIn(self.draft.name, response.text)
        self.authenticate(None, None)
        response = self.url_open(
            f"/my/billing/{self.draft.id}?access_token={token}", allow_redirects=False
        )
        self.assertIn(response.status_code, (302, 303))


@tagged("post_install", "-at_install")
class TestRunHardening(TransactionCase):
    """A bad day of the runs, for real: these tests commit on their own cursors, as
    the scheduled actions do, and clean up after themselves."""

    def _committed_env(self, cr):
        # as in test_concurrency: the test runner holds the registry lock
        if cr.transaction is None:
            cr.transaction = Transaction(self.registry)
        return api.Environment(cr, SUPERUSER_ID, {})

    def _cleanup_schedules(self, ids):
        with self.registry.cursor() as cr:
            env = self._committed_env(cr)
            env["ir.config_parameter"].set_param("crm_billing.max_periods_per_run", False)
            schedules = env["crm.billing.schedule"].browse(ids).exists()
            partners = schedules.partner_id
            schedules.invoice_ids.with_context(force_delete=True).unlink()
            schedules.period_ids.unlink()
            schedules.write({"state": "cancelled"})
            schedules.unlink()
            partners.unlink()

    def _count_periods(self, ids):
        with self.registry.cursor() as cr:
            cr.execute(
                "SELECT schedule_id, count(*) FROM crm_billing_period"
                " WHERE schedule_id = ANY(%s) GROUP BY 1",
                [ids],
            )
            return dict(cr.fetchall())

    def _start_schedules(self, env, partner, *specs):
        """Committed running schedules of ``partner`` (or of the spec's own
        ``partner``), one per spec (its line's name and price, its recurrence, start
        and posting), deleted after the test."""
        schedules = env["crm.billing.schedule"].create(
            [
                {
                    "partner_id": spec.get("partner", partner).id,
                    "rule_type": spec.get("rule_type", "monthly"),
                    "date_start": spec["date_start"],
                    "auto_post": spec.get("auto_post", False),
                    "line_ids": [
                        Command.create({"name": spec["name"], "price_unit": spec["price"]})
                    ],
                }
                for spec in specs
            ]
        )
        self.addCleanup(self._cleanup_schedules, schedules.ids)
        schedules.action_start()
        return schedules

    def test_script_starts_then_runs_and_catch_up_is_bounded(self):
        """A script that starts schedules and calls the run in the same transaction
        invoices them; a schedule backdated by years catches up a bounded number of
        periods per run and holds up no other schedule."""
        with self.registry.cursor() as cr:
            env = self._committed_env(cr)
            env["ir.config_parameter"].set_param("crm_billing.max_periods_per_run", 5)
            Schedule = env["crm.billing.schedule"]
            partner = env["res.partner"].create({"name": "Backlog Ltd", "street": "5 Quay"})
            today = fields.Date.context_today(Schedule)
            backlog, monthly = self._start_schedules(
                env,
                partner,
                {
                    "name": "Daily rate",
                    "price": 3.0,
                    "rule_type": "daily",
                    "date_start": today - timedelta(days=3 * 365),
                },
                {"name": "Monthly fee", "price": 90.0, "date_start": today - timedelta(days=40)},
            )
            ids = (backlog | monthly).ids
            Schedule._cron_generate_invoices(batch_size=1)
        self.assertEqual(self._count_periods(ids), {backlog.id: 5, monthly.id: 2})
        with self.registry.cursor() as cr:
            self._committed_env(cr)["crm.billing.schedule"]._cron_generate_invoices()
        self.assertEqual(self._count_periods(ids), {backlog.id: 10, monthly.id: 2})

    def test_a_batch_takes_its_customers_whole(self):
        """Schedules of two customers, created alternately, are invoiced in batches
        of one customer each: two workers then post for different customers."""
        with self.registry.cursor() as cr:
            env = self._committed_env(cr)
            Schedule = env["crm.billing.schedule"]
            north, south = env["res.partner"].create(
                [
                    {"name": "North Ltd", "street": "1 Quay"},
                    {"name": "South Ltd", "street": "2 Quay"},
                ]
            )
            today = fields.Date.context_today(Schedule)
            fee = {"name": "Monthly fee", "price": 20.0, "date_start": today - timedelta(days=5)}
            schedules = self._start_schedules(
                env,
                north,
                fee,
                {**fee, "partner": south},
                fee,
                {**fee, "partner": south},
            )
            Schedule._cron_generate_invoices(batch_size=2)
        with self.registry.cursor() as cr:
            cr.execute(
                "SELECT array_agg(DISTINCT s.partner_id) FROM crm_billing_period p"
                " JOIN crm_billing_schedule s ON s.id = p.schedule_id"
                " WHERE s.id = ANY(%s) GROUP BY p.create_date ORDER BY p.create_date",
                [schedules.ids],
            )
            batches = [sorted(row[0]) for row in cr.fetchall()]
        self.assertEqual(batches, [[north.id], [south.id]])
        self.assertEqual(self._count_periods(schedules.ids), dict.fromkeys(schedules.ids, 1))

    def test_catch_up_batches_are_bounded_by_periods(self):
        """Schedules four periods behind are invoiced in batches of at most the run's
        batch size in invoices, not in schedules, and every period once."""
        with self.registry.cursor() as cr:
            env = self._committed_env(cr)
            Schedule = env["crm.billing.schedule"]
            partner = env["res.partner"].create({"name": "Behind Ltd", "street": "9 Quay"})
            today = fields.Date.context_today(Schedule)
            start = date_utils.start_of(today, "month") - relativedelta(months=3)
            fee = {"name": "Monthly fee", "price": 30.0, "date_start": start}
            schedules = self._start_schedules(env, partner, fee, fee, fee)
            ids = schedules.ids
            Schedule._cron_generate_invoices(batch_size=5)
        # each committed batch has its own transaction time: the periods of one
        # batch share their creation time
        with self.registry.cursor() as cr:
            cr.execute(
                "SELECT count(*) FROM crm_billing_period WHERE schedule_id = ANY(%s)"
                " GROUP BY create_date ORDER BY create_date",
                [ids],
            )
            batches = [row[0] for row in cr.fetchall()]
        # four periods each: one schedule (four invoices) per batch of five at most
        self.assertEqual(batches, [4, 4, 4])
        self.assertEqual(self._count_periods(ids), dict.fromkeys(ids, 4))

    def test_billing_run_retries_serialization_failures(self):
        """Another transaction changed the customer after the run's snapshot, and
        posting the customer's first invoice raises its rank: the batch is tried
        again on a fresh snapshot and the period invoiced once."""
        with self.registry.cursor() as cr:
            env = self._committed_env(cr)
            Schedule = env["crm.billing.schedule"]
            partner = env["res.partner"].create({"name": "First Invoice Ltd", "street": "1 Pier"})
            today = fields.Date.context_today(Schedule)
            schedule = self._start_schedules(
                env,
                partner,
                {"name": "Monthly fee", "price": 40.0, "date_start": today, "auto_post": True},
            )
            # a new customer: its first posted invoice raises its rank at once
            self.assertEqual(partner.customer_rank, 0)
        with self.registry.cursor() as cr:
            env = self._committed_env(cr)
            # the run's snapshot is taken here ...
            self.assertTrue(env["res.partner"].browse(partner.id).exists())
            # ... then a user changes the customer and commits
            with self.registry.cursor() as other:
                other.execute(
                    "UPDATE res_partner SET write_date = now() WHERE id = %s", [partner.id]
                )
            with mute_logger("odoo.sql_db"):
                env["crm.billing.schedule"]._cron_generate_invoices()
        self.assertEqual(self._count_periods(schedule.ids), {schedule.id: 1})
        with self.registry.cursor() as cr:
            cr.execute(
                "SELECT count(*), min(state) FROM account_move WHERE billing_schedule_id = %s",
                [schedule.id],
            )
            self.assertEqual(cr.fetchone(), (1, "posted"))

    def test_reminder_run_retries_serialization_failures(self):
        """Another transaction changed a customer's invoice after the run's snapshot:
        the batch is tried again on a fresh snapshot, and the customer is reminded."""
        with self.registry.cursor() as cr:
            env = self._committed_env(cr)
            company = env.company
            env["crm.billing.reminder.level"]._create_default_levels(company)
            partner = env["res.partner"].create(
                {"name": "Retry Ltd", "email": "pay@retry.example.com", "is_company": True}
            )
            today = fields.Date.context_today(partner)
            invoice = env["account.move"].create(
                {
                    "move_type": "out_invoice",
                    "partner_id": partner.id,
                    "invoice_date": today - timedelta(days=40),
                    "invoice_date_due": today - timedelta(days=10),
                    "invoice_payment_term_id": False,
                    "invoice_line_ids": [
                        Command.create({"name": "Work", "price_unit": 250.0, "tax_ids": []})
                    ],
                }
            )
            invoice.action_post()
        self.addCleanup(self._cleanup_reminders, partner.id, invoice.id)
        with self.registry.cursor() as cr:
            env = self._committed_env(cr)
            # the run's snapshot is taken here ...
            self.assertTrue(env["account.move"].browse(invoice.id).exists())
            # ... then a user changes the invoice and commits
            with self.registry.cursor() as other:
                other.execute(
                    "UPDATE account_move SET write_date = now() WHERE id = %s", [invoice.id]
                )
            Reminder = env["crm.billing.reminder"].with_company(company)
            # the first try fails to lock the invoice, as PostgreSQL logs
            with mute_logger("odoo.sql_db"):
                reminders = Reminder._send_reminders_retrying([partner.id], today, company)
            self.assertEqual(len(reminders), 1)
            self.assertEqual(reminders.invoice_ids.id, invoice.id)

    def _cleanup_reminders(self, partner_id, invoice_id):
        with self.registry.cursor() as cr:
            env = self._committed_env(cr)
            env["crm.billing.reminder"].search([("partner_id", "=", partner_id)]).unlink()
            invoice = env["account.move"].browse(invoice_id)
            invoice.button_draft()
            invoice.button_cancel()
