# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import date
from unittest.mock import patch

from freezegun import freeze_time
from psycopg2.errors import UniqueViolation

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from odoo.addons.payment_demo.tests.common import PaymentDemoCommon

from .common import BillingCommon, ChargeCommon


class CollectionCommon(ChargeCommon, PaymentDemoCommon, BillingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_charge_common()
        cls.env.company.billing_retry_days = "1,3,7"

    def setUp(self):
        # account_payment's post-processing (the payment, its reconciliation) is
        # what a successful charge must reach: keep it
        self.enable_post_process_patcher = False
        super().setUp()

    def _invoice_with_token(self, state, day=date(2027, 3, 1), **vals):
        """A running monthly schedule charged with a demo token ending in ``state``,
        and its first invoice, posted on ``day`` (115.00 taxes included)."""
        token = self._demo_token(state)
        schedule = self._create_schedule(date_start=day, payment_token_id=token.id, **vals)
        schedule.action_start()
        with freeze_time(day):
            schedule._lock_for_invoicing()
            invoice = schedule._generate_invoices(day)
        self.assertEqual(invoice.state, "posted")
        self.assertEqual(invoice.amount_total, 115.0)
        return schedule, invoice, token

    def _collect(self, day, as_cron=False, **context):
        """The collection run on ``day``, as the cron runs it (without its commits);
        ``as_cron``: as the cron's user, too."""
        charges = self.Charge
        if as_cron:
            charges = charges.with_user(
                self.env.ref("crm_billing.ir_cron_collect_payments").user_id
            )
        with freeze_time(day):
            self.env.invalidate_all()
            charges.with_context(**context)._collect_payments()
            self.env.invalidate_all()

    def _tx_link(self, tx):
        """How a message links to the transaction ``tx``."""
        return f'data-oe-model="payment.transaction" data-oe-id="{tx.id}"'

    def _failure_emails(self, invoice):
        return invoice.message_ids.filtered(
            lambda m: m.message_type == "comment" and "could not charge" in (m.subject or "")
        )


@tagged("post_install", "-at_install")
class TestCharge(CollectionCommon):
    def test_success_pays_and_reconciles(self):
        schedule, invoice, token = self._invoice_with_token("done")
        self.assertEqual(invoice.billing_next_charge_date, date(2027, 3, 1))
        # posting does not charge: it starts the collection run, which charges after
        self.assertFalse(invoice.billing_charge_ids)
        cron = self.env.ref("crm_billing.ir_cron_collect_payments")
        self.assertTrue(self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)]))
        self._collect(date(2027, 3, 1))
        charge = invoice.billing_charge_ids
        self.assertEqual(len(charge), 1)
        self.assertRecordValues(
            charge,
            [{"state": "done", "attempt": 1, "amount": 115.0, "token_id": token.id}],
        )
        tx = charge.transaction_id
        self.assertEqual((tx.state, tx.operation, tx.amount), ("done", "offline", 115.0))
        self.assertEqual(tx.invoice_ids, invoice)
        payment = tx.payment_id
        self.assertEqual(payment.state, "paid" if payment.move_id else payment.state)
        self.assertEqual(payment.amount, 115.0)
        self.assertEqual(payment.payment_token_id, token)
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.assertEqual(invoice.amount_residual, 0.0)
        self.assertIn(payment, invoice._get_reconciled_payments() | invoice.matched_payment_ids)
        # the payment names its invoice, as Odoo's own payments of a transaction do
        self.assertEqual(payment.invoice_ids, invoice)
        self.assertEqual(payment.reconciled_invoice_ids, invoice)
        self.assertEqual(invoice.matched_payment_ids, payment)
        # the invoice's chatter tells the transaction's story in one note: sent,
        # confirmed, and the payment posted (Odoo posts three messages for it)
        notes = invoice.message_ids.filtered(lambda m: self._tx_link(tx) in str(m.body))
        self.assertEqual(len(notes), 1, notes.mapped("body"))
        for text in ("has been initiated", "has been confirmed", "has been posted", payment.name):
            self.assertIn(text, str(notes.body))
        self.assertFalse(invoice.billing_next_charge_date)
        # a re-run, the next day too, charges nothing more
        self._collect(date(2027, 3, 1))
        self._collect(date(2027, 3, 2))
        self.assertEqual(len(invoice.transaction_ids), 1)
        self.assertEqual(
            self.env["crm.billing.collection.report"]
            .search([("invoice_id", "=", invoice.id)])
            .read(["state", "collection_rate", "amount_collected", "amount_recovered"])[0]
            | {"id": 0},
            {
                "id": 0,
                "state": "collected",
                "collection_rate": 100.0,
                "amount_collected": 115.0,
                "amount_recovered": 0.0,
            },
        )

    def test_one_run_charges_many_customers(self):
        _schedule, invoice, _token = self._invoice_with_token("done")
        other = self.env["res.partner"].create(
            {"name": "Second Customer", "email": "s@example.com"}
        )
        token = self._demo_token("done", partner=other)
        second = self._create_schedule(
            date_start=date(2027, 3, 1), partner_id=other.id, payment_token_id=token.id
        )
        second.action_start()
        with freeze_time("2027-03-01"):
            second._lock_for_invoicing()
            invoice2 = second._generate_invoices(date(2027, 3, 1))
        self._collect(date(2027, 3, 1))
        self.assertEqual((invoice | invoice2).billing_charge_ids.mapped("state"), ["done", "done"])
        self.assertEqual(invoice2.transaction_ids.token_id, token)

    def test_error_retried_on_days_1_3_7_then_left_to_reminders(self):
        self.env.company.billing_retry_pause_schedule = True
        schedule, invoice, _token = self._invoice_with_token("error")
        expected = [
            # (run on, attempts made so far, next attempt on)
            (date(2027, 3, 1), 1, date(2027, 3, 2)),
            (date(2027, 3, 2), 2, date(2027, 3, 4)),
            (date(2027, 3, 3), 2, date(2027, 3, 4)),
            (date(2027, 3, 4), 3, date(2027, 3, 8)),
            (date(2027, 3, 6), 3, date(2027, 3, 8)),
            (date(2027, 3, 8), 4, False),
            (date(2027, 3, 20), 4, False),
        ]
        for day, attempts, next_day in expected:
            self._collect(day)
            charges = invoice.billing_charge_ids.sorted("attempt")
            self.assertEqual(len(charges), attempts, f"attempts made by {day}")
            self.assertEqual(len(invoice.transaction_ids), attempts, "one transaction per attempt")
            self.assertEqual(set(charges.mapped("state")), {"failed"})
            self.assertEqual(charges[-1].next_retry_date or False, next_day)
            self.assertEqual(invoice.billing_next_charge_date or False, next_day)
            self.assertEqual(len(self._failure_emails(invoice)), attempts, "one email per failure")
        self.assertEqual(charges.mapped("attempt"), [1, 2, 3, 4])
        # each refused transaction is told once on the invoice: sent, then refused
        for tx in charges.transaction_id:
            notes = invoice.message_ids.filtered(lambda m, tx=tx: self._tx_link(tx) in str(m.body))
            self.assertEqual(len(notes), 1, notes.mapped("body"))
            self.assertIn("has been initiated", str(notes.body))
            self.assertIn("encountered an error", str(notes.body))
        self.assertTrue(charges[-1].is_last_attempt)
        self.assertEqual(invoice.payment_state, "not_paid")
        self.assertEqual(invoice.amount_residual, 115.0)
        # the customer got each email, with links to pay now and to change the method
        email = self._failure_emails(invoice)[0]
        self.assertIn(self.customer, email.notified_partner_ids | email.partner_ids)
        self.assertIn(invoice.get_portal_url().split("?")[0], email.body)
        self.assertIn(f"/my/billing/{schedule.id}", email.body)
        self.assertIn("We will not try again automatically", email.body)
        self.assertIn(
            "left to the payment reminders",
            invoice.message_ids[:5].mapped(lambda m: str(m.body)).__str__(),
        )
        self.assertEqual(
            schedule.state, "paused", "the company pauses schedules after the last retry"
        )
        report = self.env["crm.billing.collection.report"].search([("invoice_id", "=", invoice.id)])
        self.assertEqual(
            (report.state, report.attempt_count, report.collection_rate), ("exhausted", 4, 0.0)
        )

    def test_reminders_wait_for_the_last_attempt(self):
        self.env.company.billing_retry_days = "1,3,7,10"
        Level = self.env["crm.billing.reminder.level"]
        Level._create_default_levels(self.env.company)
        Reminder = self.env["crm.billing.reminder"]
        _schedule, invoice, _token = self._invoice_with_token("error")
        for day in (date(2027, 3, 1), date(2027, 3, 2), date(2027, 3, 4), date(2027, 3, 8)):
            self._collect(day)
        # 7 days overdue, but a retry is planned on day 10: no reminder yet
        with freeze_time("2027-03-09"):
            Reminder._send_reminders()
        self.assertFalse(invoice.reminder_level_id)
        self._collect(date(2027, 3, 11))
        self.assertTrue(invoice.billing_charge_ids.sorted("attempt")[-1].is_last_attempt)
        with freeze_time("2027-03-11"):
            Reminder._send_reminders()
        self.assertEqual(invoice.reminder_level_id.days, 7, "left to the reminders")

    def test_recovered_by_a_retry(self):
        schedule, invoice, token = self._invoice_with_token("cancel")
        self._collect(date(2027, 3, 1))
        self.assertEqual(invoice.billing_charge_ids.state, "failed")
        token.demo_simulated_state = "done"  # the customer's bank accepts it now
        self._collect(date(2027, 3, 2))
        charges = invoice.billing_charge_ids.sorted("attempt")
        self.assertEqual(charges.mapped("state"), ["failed", "done"])
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        report = self.env["crm.billing.collection.report"].search([("invoice_id", "=", invoice.id)])
        self.assertEqual(
            (report.state, report.amount_recovered, report.attempt_count), ("collected", 115.0, 2)
        )

    def test_pending_not_retried_until_it_settles(self):
        _schedule, invoice, _token = self._invoice_with_token("pending")
        for day in (date(2027, 3, 1), date(2027, 3, 2), date(2027, 3, 9)):
            self._collect(day)
            self.assertEqual(invoice.billing_charge_ids.mapped("state"), ["pending"])
            self.assertEqual(len(invoice.transaction_ids), 1)
        self.assertEqual(invoice.payment_state, "not_paid")
        # the provider's notification settles the transaction; the next run pays
        invoice.transaction_ids.action_demo_set_done()
        self._collect(date(2027, 3, 10))
        self.assertEqual(invoice.billing_charge_ids.state, "done")
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.assertEqual(len(invoice.transaction_ids), 1)

    def test_paid_by_hand_before_the_retry_is_not_charged(self):
        _schedule, invoice, _token = self._invoice_with_token("error")
        self._collect(date(2027, 3, 1))
        self.assertEqual(invoice.billing_next_charge_date, date(2027, 3, 2))
        self._register_payment(invoice, payment_date=date(2027, 3, 1))
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self._collect(date(2027, 3, 2))
        self._collect(date(2027, 3, 8))
        self.assertEqual(len(invoice.billing_charge_ids), 1)
        self.assertEqual(len(invoice.transaction_ids), 1)

    def test_payment_under_way_in_the_portal_is_not_charged(self):
        _schedule, invoice, _token = self._invoice_with_token("done")
        # the customer pays it online first; the provider has not confirmed yet
        self._create_transaction(
            "redirect",
            reference="portal payment",
            amount=115.0,
            currency_id=invoice.currency_id.id,
            partner_id=self.customer.id,
            invoice_ids=[Command.set(invoice.ids)],
            state="pending",
        )
        self._collect(date(2027, 3, 1))
        self.assertFalse(invoice.billing_charge_ids)
        self.assertEqual(len(invoice.transaction_ids), 1)

    def test_another_customers_token_is_refused(self):
        other = self.env["res.partner"].create({"name": "Somebody Else", "email": "x@example.com"})
        foreign = self._demo_token("done", partner=other)
        schedule = self._create_schedule(date_start=date(2027, 3, 1))
        with (
            self.assertRaisesRegex(ValidationError, "only be charged with a payment method of"),
            self.cr.savepoint(),
        ):
            schedule.write({"payment_token_id": foreign.id})
        schedule.invalidate_recordset()
        self.assertFalse(schedule.payment_token_id)
        # a contact of the customer's company holds a token of the company
        contact = self.env["res.partner"].create(
            {"name": "Accounts", "parent_id": self.customer.id}
        )
        own = self._demo_token("done", partner=contact)
        schedule.payment_token_id = own
        self.assertEqual(schedule.payment_token_id, own)

    def test_removed_token_is_not_charged_and_listed_before_deletion(self):
        schedule, invoice, token = self._invoice_with_token("done")
        info = token.get_linked_records_info()
        self.assertEqual([(i["id"], i["name"]) for i in info], [(schedule.id, schedule.name)])
        token.action_archive()
        self._collect(date(2027, 3, 1))
        self.assertFalse(invoice.billing_charge_ids)
        self.assertEqual(invoice.payment_state, "not_paid")
        self.assertIn("was removed", str(invoice.message_ids[:3].mapped("body")))

    def test_retry_days_are_validated(self):
        company = self.env.company
        for bad in ("3,1", "0,2", "1,,3", "one", "1;3"):
            with self.assertRaisesRegex(ValidationError, "Charge retry days must be whole days"):
                company.billing_retry_days = bad
        company.billing_retry_days = " 2, 5 "
        self.assertEqual(company._billing_retry_offsets(), [2, 5])
        company.billing_retry_days = ""
        self.assertEqual(company._billing_retry_offsets(), [])

    def test_no_retry_days_leaves_the_invoice_to_reminders_at_once(self):
        self.env.company.billing_retry_days = False
        schedule, invoice, _token = self._invoice_with_token("error")
        self._collect(date(2027, 3, 1))
        self.assertTrue(invoice.billing_charge_ids.is_last_attempt)
        self.assertFalse(invoice.billing_next_charge_date)
        self.assertEqual(schedule.state, "running", "pausing is off by default")

    def _register_with_token(self, invoice, token, day, **context):
        """Odoo's own way of paying ``invoice`` with ``token``: the Register Payment
        wizard, which charges the token, posts the payment and reconciles it."""
        journal = self.provider.journal_id
        method_line = journal.inbound_payment_method_line_ids.filtered(
            lambda line: line.payment_provider_id == self.provider
        )[:1]
        with freeze_time(day):
            wizard = (
                self.env["account.payment.register"]
                .with_context(active_model="account.move", active_ids=invoice.ids, **context)
                .create(
                    {
                        "journal_id": journal.id,
                        "payment_method_line_id": method_line.id,
                        "payment_token_id": token.id,
                    }
                )
            )
            payments = wizard._create_payments()
            self.env.flush_all()
            self.env.cr.flush()  # the payment state's tracking
        return payments

    def _paid_state(self, invoice, payment):
        """What paying ``invoice`` with ``payment`` leaves in the books and in the
        invoice's chatter (its payment-state tracking message), without the ids."""
        invoice.invalidate_recordset()
        lines = invoice.line_ids.sorted(lambda line: (line.display_type, line.balance))
        counterpart = payment.move_id.line_ids.filtered(
            lambda line: line.account_id == payment.destination_account_id
        )
        tracking = invoice.message_ids.filtered(
            lambda m: "payment_state" in m.tracking_value_ids.field_id.mapped("name")
        )
        return {
            "invoice": invoice.read(
                ["payment_state", "amount_residual", "amount_total", "amount_tax", "state"]
            )[0]
            | {"id": 0},
            "lines": [
                (
                    line.display_type,
                    line.account_id.id,
                    line.balance,
                    line.amount_residual,
                    line.reconciled,
                    bool(line.full_reconcile_id),
                    line.matching_number == counterpart.matching_number
                    if line.display_type == "payment_term"
                    else None,
                )
                for line in lines
            ],
            "payment": (
                payment.state,
                payment.is_reconciled,
                payment.is_matched,
                payment.reconciled_invoice_ids == invoice,
                invoice.matched_payment_ids == payment,
                counterpart.reconciled,
            ),
            "tracking": [
                (
                    m.message_type,
                    m.subtype_id.id,
                    [
                        (v.field_id.name, v.old_value_char, v.new_value_char)
                        for v in m.tracking_value_ids
                    ],
                    m.notified_partner_ids.ids,
                )
                for m in tracking
            ],
            # the payment's own journal entry and chatter
            "entry": (
                payment.move_id.state,
                payment.move_id.move_type,
                payment.move_id.origin_payment_id == payment,
                payment.move_id.journal_id == payment.journal_id,
                bool(payment.move_id.name) and payment.move_id.name != "/",
                sorted(
                    (line.account_id.id, line.balance, line.partner_id.id)
                    for line in payment.move_id.line_ids
                ),
            ),
            "payment_tracking": sorted(
                (v.field_id.name, v.old_value_char, v.new_value_char)
                for v in payment.message_ids.tracking_value_ids
            ),
        }

    def test_run_leaves_the_invoice_as_register_payment_does(self):
        """The run pays and reconciles an invoice exactly as Odoo's Register Payment
        with the same saved payment method: the same journal items, reconciliation,
        payment state and payment-state tracking (values, subtype, nobody notified),
        the tracking carried by the run's note of the transaction."""
        day = date(2027, 3, 1)
        _schedule, invoice, _token = self._invoice_with_token("done", day=day)
        _schedule2, invoice2, token2 = self._invoice_with_token("done", day=day)
        # with tracking on, as in a database (Odoo's test cases turn it off)
        tracking = {"tracking_disable": False, "mail_notrack": False}
        # the second is paid by hand, through the wizard, before the run
        invoice2.sudo().billing_next_charge_date = False
        by_hand = self._register_with_token(invoice2, token2, day, **tracking)
        self._collect(day, as_cron=True, **tracking)
        self.env.cr.flush()
        run_payment = invoice.transaction_ids.payment_id
        self.assertTrue(run_payment)
        self.assertEqual(len(by_hand), 1)
        self.assertEqual(by_hand.payment_transaction_id.state, "done")
        paid_state = self._paid_state(invoice, run_payment)
        self.assertEqual(paid_state, self._paid_state(invoice2, by_hand))
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        # what was compared includes the payment's posted entry, of two lines
        self.assertEqual(paid_state["entry"][:3], ("posted", "entry", True))
        self.assertEqual(len(paid_state["entry"][5]), 2)
        # what was compared includes the payment state's tracking message
        self.assertEqual(len(paid_state["tracking"]), 1)
        self.assertEqual(paid_state["tracking"][0][1], self.env.ref("account.mt_invoice_paid").id)
        # Odoo's own is a message of its own, with no text; the run's is its note
        # of the transaction, which says what the tracking is for
        odoo_tracking = invoice2.message_ids.filtered("tracking_value_ids")
        self.assertFalse(odoo_tracking.body)
        run_tracking = invoice.message_ids.filtered("tracking_value_ids")
        self.assertEqual(len(run_tracking), 1)
        tx = invoice.transaction_ids
        for text in (self._tx_link(tx), "has been confirmed", "has been posted"):
            self.assertIn(text, str(run_tracking.body))
        self.assertEqual(
            len(invoice.message_ids.filtered(lambda m: self._tx_link(tx) in str(m.body))), 1
        )
        # the cron's author, OdooBot, as Odoo's would be in the cron
        self.assertEqual(run_tracking.author_id, self.env.ref("base.partner_root"))

    def test_payments_entries_made_at_once_as_odoo_makes_them(self):
        """The run makes its payments' journal entries for the whole batch before
        posting them; each payment gets what Odoo's own posting gives it, one at a
        time: its own posted entry, the same lines, state and chatter."""
        customers = self.env["res.partner"].create(
            [{"name": f"Entry customer {i}"} for i in range(3)]
        )
        journal = self.provider.journal_id
        Payment = self.env["account.payment"].with_context(
            tracking_disable=False, mail_notrack=False
        )
        vals_list = [
            {
                "payment_type": "inbound",
                "partner_type": "customer",
                "partner_id": customer.id,
                "amount": 100.0 + i,
                "journal_id": journal.id,
                "memo": f"Entry {i}",
            }
            for i, customer in enumerate(customers)
        ]
        by_odoo = Payment.create(vals_list)
        by_odoo.action_post()
        batched = Payment.create(vals_list)
        PaymentModel = type(Payment)
        write = PaymentModel.write
        writes = []

        def counted_write(payments, vals):
            writes.append(len(payments))
            return write(payments, vals)

        with patch.object(PaymentModel, "write", counted_write):
            batched._crm_billing_generate_journal_entries()
        self.assertEqual(writes, [], "linked in one statement, not one write each")
        # each payment has its own draft entry, made before the posting
        self.assertEqual(len(batched.move_id), 3)
        self.assertEqual(batched.move_id.mapped("state"), ["draft"] * 3)
        self.assertEqual(batched.move_id.origin_payment_id, batched)
        batched.action_post()
        self.env.flush_all()
        self.env.invalidate_all()

        def made(payment):
            entry = payment.move_id
            return (
                payment.state,
                entry.state,
                entry.move_type,
                entry.origin_payment_id == payment,
                entry.name.rsplit("/", 1)[0],
                sorted(
                    (line.account_id.id, line.balance, line.partner_id.id, line.name)
                    for line in entry.line_ids
                ),
                payment.message_ids.mapped("body"),
            )

        self.assertEqual(len(batched.move_id), 3)
        for mine, odoo in zip(batched, by_odoo, strict=True):
            self.assertEqual(made(mine), made(odoo))
        self.assertEqual(batched.mapped("state"), ["in_process"] * 3)
        self.assertEqual(batched.mapped("amount"), [100.0, 101.0, 102.0])
        # a payment that has its entry already keeps it
        entries = batched.move_id
        batched._crm_billing_generate_journal_entries()
        self.assertEqual(batched.move_id, entries)

    def test_followed_payment_state_is_notified_as_by_odoo(self):
        """A follower who asked to hear of paid invoices is told by Odoo's own
        tracking message, which the run leaves as it is for that invoice."""
        day = date(2027, 3, 1)
        _schedule, invoice, _token = self._invoice_with_token("done", day=day)
        _schedule2, invoice2, _token2 = self._invoice_with_token("done", day=day)
        watcher = self.env["res.partner"].create(
            {"name": "Paid Watcher", "email": "watcher@example.com"}
        )
        paid = self.env.ref("account.mt_invoice_paid")
        invoice.message_subscribe(watcher.ids, subtype_ids=paid.ids)
        self._collect(day, as_cron=True, tracking_disable=False, mail_notrack=False)
        self.env.cr.flush()
        self.env.invalidate_all()
        # followed: Odoo's own message, notified; the run's note apart, untracked
        tracking = invoice.message_ids.filtered("tracking_value_ids")
        self.assertEqual(len(tracking), 1)
        self.assertEqual(tracking.subtype_id, paid)
        self.assertIn(watcher, tracking.notified_partner_ids)
        self.assertNotIn(self._tx_link(invoice.transaction_ids), str(tracking.body))
        # not followed: one message, the note carrying the tracking
        tracking2 = invoice2.message_ids.filtered("tracking_value_ids")
        self.assertEqual(len(tracking2), 1)
        self.assertEqual(tracking2.subtype_id, paid)
        self.assertIn(self._tx_link(invoice2.transaction_ids), str(tracking2.body))
        self.assertFalse(tracking2.notified_partner_ids)
        for move in invoice | invoice2:
            self.assertEqual(
                move.message_ids.tracking_value_ids.mapped(
                    lambda v: (v.field_id.name, v.old_value_char, v.new_value_char)
                ),
                [("payment_state", "Not Paid", "Paid")],
            )

    def test_one_run_charges_several_payment_methods_at_once(self):
        """The run opens a batch's transactions in one create, whatever their payment
        methods; Odoo's check that a payment method is not archived still holds for
        each transaction of such a batch."""
        day = date(2027, 3, 1)
        _schedule1, invoice1, token1 = self._invoice_with_token("done", day=day)
        _schedule2, invoice2, token2 = self._invoice_with_token("done", day=day)
        self.assertNotEqual(token1, token2)
        self._collect(day)
        for invoice, token in ((invoice1, token1), (invoice2, token2)):
            tx = invoice.transaction_ids
            self.assertEqual(len(tx), 1)
            self.assertEqual((tx.state, tx.token_id, tx.amount), ("done", token, 115.0))
            self.assertIn(invoice.payment_state, ("paid", "in_payment"))
            self.assertEqual(invoice.amount_residual, 0.0)
        archived = self._demo_token("done")
        archived.active = False

        def tx_vals(token, reference):
            return {
                "provider_id": self.provider.id,
                "payment_method_id": token.payment_method_id.id,
                "reference": reference,
                "amount": 10.0,
                "currency_id": self.env.company.currency_id.id,
                "partner_id": self.customer.id,
                "token_id": token.id,
                "operation": "offline",
            }

        Transaction = self.env["payment.transaction"]
        created = Transaction.create([tx_vals(token1, "BATCH-1"), tx_vals(token2, "BATCH-2")])
        self.assertEqual(created.token_id, token1 | token2)
        with self.assertRaisesRegex(ValidationError, "archived token"), self.cr.savepoint():
            Transaction.create([tx_vals(token1, "BATCH-3"), tx_vals(archived, "BATCH-4")])
        self.assertFalse(Transaction.search([("reference", "in", ("BATCH-3", "BATCH-4"))]))

    def test_database_keeps_one_open_charge_per_invoice(self):
        _schedule, invoice, token = self._invoice_with_token("pending")
        self._collect(date(2027, 3, 1))
        with self.assertRaises(UniqueViolation), mute_logger("odoo.sql_db"), self.cr.savepoint():
            self.Charge.sudo().create(
                {"invoice_id": invoice.id, "token_id": token.id, "attempt": 2}
            )
        with self.assertRaises(UniqueViolation), mute_logger("odoo.sql_db"), self.cr.savepoint():
            self.Charge.sudo().create(
                {"invoice_id": invoice.id, "token_id": token.id, "attempt": 1, "state": "failed"}
            )


@tagged("post_install", "-at_install")
class TestChargeAccess(CollectionCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        company = cls.env.company
        common = {"company_id": company.id, "company_ids": [Command.set(company.ids)]}
        cls.rep = new_test_user(
            cls.env, login="charge_rep", groups="sales_team.group_sale_salesman", **common
        )
        cls.accountant = new_test_user(
            cls.env,
            login="charge_accountant",
            groups="account.group_account_invoice,sales_team.group_sale_salesman",
            **common,
        )
        cls.portal = new_test_user(cls.env, login="charge_portal", groups="base.group_portal")
        cls.portal.partner_id.parent_id = cls.customer

    def test_salesperson_cannot_charge_or_choose_the_token(self):
        schedule, invoice, token = self._invoice_with_token("error", user_id=self.rep.id)
        self._collect(date(2027, 3, 1))
        with freeze_time("2027-03-01"):
            with self.assertRaisesRegex(AccessError, "Invoicing rights"):
                invoice.with_user(self.rep).action_billing_charge_now()
            with self.assertRaisesRegex(AccessError, "Invoicing rights"):
                schedule.with_user(self.rep).action_charge_now()
            with self.assertRaises(AccessError):
                schedule.with_user(self.rep).write({"payment_token_id": False})
            with self.assertRaises(AccessError):
                self.Charge.with_user(self.rep).create(
                    {"invoice_id": invoice.id, "token_id": token.id, "attempt": 9}
                )
            with self.assertRaises(AccessError):
                invoice.billing_charge_ids.with_user(self.rep).write({"state": "done"})
            with self.assertRaises(AccessError):
                invoice.with_user(self.rep).write({"billing_next_charge_date": "2027-03-01"})
        self.assertEqual(invoice.billing_next_charge_date, date(2027, 3, 2))
        # the rep sees the charges of the own schedule, read only
        self.assertEqual(
            self.Charge.with_user(self.rep).search([("invoice_id", "=", invoice.id)]),
            invoice.billing_charge_ids,
        )
        self._collect(date(2027, 3, 1))
        self.assertEqual(len(invoice.billing_charge_ids), 1)

    def test_accountant_charges_now(self):
        schedule, invoice, token = self._invoice_with_token("error")
        self._collect(date(2027, 3, 1))
        token.demo_simulated_state = "done"
        with freeze_time("2027-03-01 15:00"):
            action = invoice.with_user(self.accountant).action_billing_charge_now()
        self.assertEqual(action["tag"], "display_notification")
        self.assertEqual(invoice.billing_next_charge_date, date(2027, 3, 1))
        self._collect(date(2027, 3, 1))
        self.assertEqual(
            invoice.billing_charge_ids.sorted("attempt").mapped("state"), ["failed", "done"]
        )
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        # paid: nothing is left to charge, and saying so changes nothing
        with self.assertRaisesRegex(UserError, "cannot be charged: the invoice is paid"):
            invoice.with_user(self.accountant).action_billing_charge_now()
        with self.assertRaisesRegex(UserError, "No posted invoice of these schedules is left"):
            schedule.with_user(self.accountant).action_charge_now()

    def test_charge_now_on_a_schedule(self):
        schedule, invoice, token = self._invoice_with_token("pending")
        self._collect(date(2027, 3, 1))
        with self.assertRaisesRegex(UserError, "a payment of the invoice is already under way"):
            schedule.with_user(self.accountant).action_charge_now()
        self.assertEqual(len(invoice.transaction_ids), 1)

    def test_portal_customer_sees_own_charges_only(self):
        _schedule, invoice, _token = self._invoice_with_token("done")
        self._collect(date(2027, 3, 1))
        Charge = self.Charge.with_user(self.portal)
        self.assertEqual(Charge.search([]), invoice.billing_charge_ids)
        with self.assertRaises(AccessError):
            invoice.with_user(self.portal).action_billing_charge_now()
        other = self.env["res.partner"].create({"name": "Other Portal Co"})
        stranger = new_test_user(self.env, login="charge_stranger", groups="base.group_portal")
        stranger.partner_id.parent_id = other
        self.assertFalse(self.Charge.with_user(stranger).search([]))
