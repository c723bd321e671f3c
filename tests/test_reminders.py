# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import date, timedelta
from unittest.mock import patch

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, tagged
from odoo.tests.common import new_test_user
from odoo.tools import format_amount, format_date, html2plaintext

from odoo.addons.account.tests.common import AccountTestInvoicingCommon

from .common import BillingInvoiceHelpers


@tagged("post_install", "-at_install")
class TestPaymentReminders(BillingInvoiceHelpers, AccountTestInvoicingCommon):
    """The daily reminder run and the manual sending, against real invoices and
    payments: who is reminded, of what, at which level, and only once."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.company_data["company"]
        cls.company.email = "billing@company1.example.com"
        cls.Level = cls.env["crm.billing.reminder.level"]
        cls.Reminder = cls.env["crm.billing.reminder"]
        cls.Level._create_default_levels(cls.company)
        levels = cls.Level.search([("company_id", "=", cls.company.id)])
        cls.level_courtesy, cls.level_first, cls.level_second, cls.level_final = levels.sorted(
            "days"
        )
        cls.customer = cls.env["res.partner"].create(
            {
                "name": "Azure Interior",
                "is_company": True,
                "email": "info@azure.example.com",
                "lang": "en_US",
            }
        )
        cls.accounts = cls.env["res.partner"].create(
            {
                "name": "Azure Accounts Payable",
                "parent_id": cls.customer.id,
                "type": "invoice",
                "email": "ap@azure.example.com",
            }
        )
        cls.other_customer = cls.env["res.partner"].create(
            {"name": "Deco Addict", "is_company": True, "email": "pay@deco.example.com"}
        )
        cls.currency = cls.company.currency_id

    # --- helpers ---

    def _invoice(self, amount, due, partner=None, company=None, invoice_date=None):
        """A posted invoice of ``amount`` (no tax) falling due on ``due``."""
        due = date.fromisoformat(due)
        invoice_date = invoice_date or due - timedelta(days=30)
        with freeze_time(invoice_date):
            invoice = self._customer_invoice(
                amount,
                partner=partner or self.accounts,
                invoice_date=invoice_date,
                due=due,
                company=company,
                name="Consulting",
            )
        self.assertEqual(invoice.invoice_date_due, due)
        return invoice

    def _run(self, on, **kwargs):
        with freeze_time(on):
            return self.Reminder._send_reminders(**kwargs)

    def _mails(self, partner):
        return self.env["mail.mail"].search(
            [("model", "=", "res.partner"), ("res_id", "=", partner.id)], order="id"
        )

    def _amount(self, amount, currency=None):
        return format_amount(self.env, amount, currency or self.currency)

    # --- levels ---

    def test_default_levels(self):
        self.assertEqual(
            [
                (lvl.days, lvl.channel, bool(lvl.mail_template_id))
                for lvl in (
                    self.level_courtesy,
                    self.level_first,
                    self.level_second,
                    self.level_final,
                )
            ],
            [(-3, "email", True), (7, "email", True), (30, "email", True), (60, "email", True)],
        )
        self.assertFalse(self.Level._create_default_levels(self.company), "already equipped")

    def test_level_constraints(self):
        with self.assertRaisesRegex(ValidationError, "both apply 7 days"):
            self.Level.create(
                {
                    "name": "Another first",
                    "company_id": self.company.id,
                    "days": 7,
                    "channel": "activity",
                }
            )
        with self.assertRaisesRegex(ValidationError, "choose its email template"):
            self.Level.create(
                {
                    "name": "Silent email",
                    "company_id": self.company.id,
                    "days": 15,
                    "channel": "email",
                }
            )
        # an archived level leaves its days free
        self.level_second.active = False
        self.Level.create(
            {"name": "New second", "company_id": self.company.id, "days": 30, "channel": "activity"}
        )
        with self.assertRaisesRegex(ValidationError, "both apply 30 days"):
            self.level_second.active = True

    def test_access_rights(self):
        rep = new_test_user(
            self.env,
            login="rep_rights",
            groups="base.group_user,crm_billing.group_billing_user",
            company_id=self.company.id,
            company_ids=[Command.set(self.company.ids)],
        )
        manager = new_test_user(
            self.env,
            login="manager_rights",
            groups="base.group_user,crm_billing.group_billing_manager",
            company_id=self.company.id,
            company_ids=[Command.set(self.company.ids)],
        )
        # a billing user sees the reminders of his own invoices, as sale's own documents
        self._invoice(100.00, "2027-01-01").invoice_user_id = rep
        reminder = self._run("2027-01-08")
        self.assertEqual(self.Reminder.with_user(rep).search([]), reminder.with_user(rep))
        self.assertEqual(self.level_first.with_user(rep).days, 7)
        with self.assertRaises(AccessError):
            self.Level.with_user(rep).create(
                {"name": "Call", "company_id": self.company.id, "days": 90, "channel": "activity"}
            )
        with self.assertRaises(AccessError):
            reminder.with_user(manager).unlink()
        level = self.Level.with_user(manager).create(
            {"name": "Call", "company_id": self.company.id, "days": 90, "channel": "activity"}
        )
        self.assertEqual(level.days, 90)
        # another company's reminders stay in that company
        company_2 = self.setup_other_company(name="Company Rights")["company"]
        self.Level._create_default_levels(company_2)
        self._invoice(100.00, "2027-01-01", partner=self.other_customer, company=company_2)
        other = self._run("2027-01-09", companies=company_2)
        self.assertEqual(other.company_id, company_2)
        self.assertNotIn(other, self.Reminder.with_user(rep).search([]))

    def test_invoice_form_lists_its_reminders(self):
        """The invoice's Payment Reminders tab lists each reminder that asked for it:
        the accountant sees them in the invoice form; the invoice's salesperson gets
        the tab in his view of the form and reads the same reminders. No note is
        written in the invoice's chatter."""
        accountant = new_test_user(
            self.env,
            login="accountant_reminders",
            groups="base.group_user,account.group_account_invoice",
            company_id=self.company.id,
            company_ids=[Command.set(self.company.ids)],
        )
        rep = new_test_user(
            self.env,
            login="rep_reminders",
            groups="base.group_user,sales_team.group_sale_salesman",
            company_id=self.company.id,
            company_ids=[Command.set(self.company.ids)],
        )
        invoice = self._invoice(100.00, "2027-01-01")
        invoice.invoice_user_id = rep
        first = self._run("2027-01-08")
        second = self._run("2027-01-31")
        self.assertEqual((first | second).level_id, self.level_first | self.level_second)
        for user in (accountant, rep):
            arch = invoice.with_user(user).get_views([(False, "form")])["views"]["form"]["arch"]
            self.assertIn('name="crm_billing_reminders"', arch)
            self.assertEqual(invoice.with_user(user).billing_reminder_ids, first | second)
        # the accountant's form shows them (Odoo's own invoice form reads payments,
        # which a salesperson may not: Form() cannot open it for him)
        form = Form(invoice.with_user(accountant))
        self.assertEqual(
            sorted(reminder.id for reminder in form.billing_reminder_ids), (first | second).ids
        )
        self.assertFalse(invoice.message_ids.filtered(lambda m: "Payment reminder" in m.body))
        # nobody rewrites that history over RPC, not even the invoice's own people
        for user in (accountant, rep):
            for vals in (
                {"billing_reminder_ids": [Command.clear()]},
                {"reminder_level_id": False},
                {"reminder_last_date": "2027-01-01"},
            ):
                with self.assertRaisesRegex(UserError, "cannot be changed by hand"):
                    invoice.with_user(user).write(vals)
            with self.assertRaisesRegex(UserError, "cannot be changed by hand"):
                self.env["account.move"].with_user(user).create(
                    {
                        "move_type": "out_invoice",
                        "partner_id": self.customer.id,
                        "reminder_level_id": self.level_final.id,
                    }
                )
        self.assertEqual(invoice.billing_reminder_ids, first | second)
        self.assertEqual(invoice.reminder_level_id, self.level_second)
        self.assertEqual(invoice.reminder_last_date, date(2027, 1, 31))

    # --- the run ---

    def test_cron_work_list(self):
        """The cron hands customers in batches to ``_send_reminders``: its work list is
        every customer with an invoice at a new level, and nobody else."""
        self._invoice(100.00, "2027-01-01")
        self._invoice(100.00, "2027-01-07", partner=self.other_customer)
        Reminder = self.Reminder.with_company(self.company)
        with freeze_time("2027-01-08"):
            self.assertEqual(Reminder._get_partners_to_remind(date(2027, 1, 8)), self.customer)
        self._run("2027-01-08")
        with freeze_time("2027-01-09"):
            self.assertFalse(Reminder._get_partners_to_remind(date(2027, 1, 9)))
        with freeze_time("2027-01-14"):
            self.assertEqual(
                Reminder._get_partners_to_remind(date(2027, 1, 14)), self.other_customer
            )

    def test_first_reminder_covers_every_new_level(self):
        late = self._invoice(1000.00, "2027-01-01")
        soon = self._invoice(250.50, "2027-01-11")
        later = self._invoice(99.00, "2027-02-28")
        # overdue, but no new level yet: asked for with the others, left at its level
        overdue = self._invoice(40.00, "2027-01-06")
        reminders = self._run("2027-01-08")
        self.assertEqual(len(reminders), 1, "one reminder per customer")
        self.assertRecordValues(
            reminders,
            [
                {
                    "partner_id": self.customer.id,
                    "company_id": self.company.id,
                    "level_id": self.level_first.id,
                    "channel": "email",
                    "date": date(2027, 1, 8),
                    "manual": False,
                    "amount_due": 1290.50,
                }
            ],
        )
        self.assertEqual(reminders.invoice_ids, late | soon | overdue)
        self.assertEqual(reminders.recipient_ids, self.accounts)
        # each invoice keeps the level it reached itself
        self.assertEqual(late.reminder_level_id, self.level_first)
        self.assertEqual(soon.reminder_level_id, self.level_courtesy)
        self.assertFalse(later.reminder_level_id)
        self.assertFalse(overdue.reminder_level_id)
        self.assertEqual(late.reminder_last_date, date(2027, 1, 8))
        self.assertEqual(overdue.reminder_last_date, date(2027, 1, 8))

        mails = self._mails(self.customer)
        self.assertEqual(len(mails), 1)
        self.assertEqual(mails.recipient_ids, self.accounts)
        self.assertEqual(mails.subject, f"{self.company.name}: payment reminder")
        body = html2plaintext(mails.body_html)
        for text in (
            "Dear Azure Interior",
            late.name,
            soon.name,
            format_date(self.env, late.invoice_date_due),
            "7 days late",
            "due in 3 days",
            self._amount(1000.00),
            self._amount(250.50),
            overdue.name,
            "2 days late",
            self._amount(40.00),
            "Total due",
            self._amount(1290.50),
        ):
            self.assertIn(text, body)
        # oldest due date first
        self.assertLess(body.index(late.name), body.index(overdue.name))
        self.assertLess(body.index(overdue.name), body.index(soon.name))
        self.assertNotIn(later.name, body)
        self.assertIn(late.get_portal_url(), mails.body_html)
        self.assertEqual(reminders.message_id.body, mails.mail_message_id.body)
        self.assertEqual(len(mails.attachment_ids), 3, "the first reminder attaches the invoices")
        # each invoice lists the reminders that asked for it, on the invoice itself,
        # without a note on its chatter
        for invoice in (late, soon, overdue):
            self.assertEqual(invoice.billing_reminder_ids, reminders)
        self.assertFalse(later.billing_reminder_ids)
        self.assertFalse(late.message_ids.filtered(lambda m: "Payment reminder" in m.body))

    def test_run_sends_the_email_a_post_sends(self):
        """The run queues each customer's email as Odoo's mass mailing that keeps a
        copy in the chatter does: the same email as posting it on the customer's
        chatter (subject, body, sender, reply-to, recipients, attachments), its
        message the customer's chatter entry, with one notification per recipient."""
        self._invoice(1000.00, "2027-01-01")
        self._invoice(200.00, "2026-12-31")
        reminder = self._run("2027-01-08")
        mail = self._mails(self.customer)
        message = reminder.message_id
        self.assertEqual(message, mail.mail_message_id)
        self.assertEqual(self.customer.message_ids[0], message)
        self.assertEqual(message.notification_ids.res_partner_id, self.accounts)
        self.assertEqual(message.notification_ids.notification_type, "email")
        # the same reminder posted on the customer's chatter, as one sent by hand is
        # (as superuser, as the run sends)
        with freeze_time("2027-01-08"):
            posted = reminder.sudo()._post_customer_email(
                reminder._get_mail_template(),
                reminder._get_email_recipients(),
                reminder._get_email_attachments(),
            )
        posted_mail = self._mails(self.customer) - mail
        self.assertEqual(len(posted_mail), 1)
        for field in ("subject", "email_from", "author_id", "reply_to", "body_html"):
            self.assertEqual(mail[field], posted_mail[field], field)
        self.assertEqual(mail.recipient_ids, posted_mail.recipient_ids)
        self.assertEqual(
            sorted(mail.attachment_ids.mapped("name")),
            sorted(posted_mail.attachment_ids.mapped("name")),
        )
        self.assertEqual(len(mail.attachment_ids), 2, "the invoices' PDFs")
        self.assertEqual(message.body, posted.body)

    def test_templates_render_the_table_without_a_vain_lookup(self):
        """Each level's template lists the invoices, and renders without QWeb
        looking its body up as a view (which fails, and cost a formatted traceback
        per email: a t-call with a body in a mail template did that)."""
        invoice = self._invoice(1000.00, "2027-01-01")
        reminder = self._run("2027-01-08")
        IrQweb = type(self.env["ir.qweb"])
        get_template = IrQweb._get_template
        failed = []

        def _get_template(qweb, template):
            try:
                return get_template(qweb, template)
            except Exception:
                failed.append(template)
                raise

        for level in (self.level_courtesy, self.level_first, self.level_second, self.level_final):
            with (
                self.subTest(level=level.name),
                patch.object(IrQweb, "_get_template", _get_template),
            ):
                body = level.mail_template_id._generate_template(reminder.ids, ["body_html"])[
                    reminder.id
                ]["body_html"]
                self.assertIn(invoice.name, html2plaintext(body))
                self.assertEqual(failed, [])

    def test_same_day_rerun_sends_nothing(self):
        self._invoice(1000.00, "2027-01-01")
        self.assertTrue(self._run("2027-01-08"))
        # an invoice reaching a level later the same day waits for tomorrow
        self._invoice(500.00, "2027-01-11")
        self.assertFalse(self._run("2027-01-08"))
        self.assertEqual(len(self._mails(self.customer)), 1)
        self.assertTrue(self._run("2027-01-09"))

    def test_escalation_over_weeks(self):
        invoice = self._invoice(1200.00, "2027-01-01")
        sent = []
        day = date(2026, 12, 20)
        while day <= date(2027, 3, 15):
            sent += [(r.date, r.level_id) for r in self._run(day)]
            day += timedelta(days=1)
        self.assertEqual(
            sent,
            [
                (date(2026, 12, 29), self.level_courtesy),
                (date(2027, 1, 8), self.level_first),
                (date(2027, 1, 31), self.level_second),
                (date(2027, 3, 2), self.level_final),
            ],
            "every level once, in order, on the day it is reached",
        )
        self.assertEqual(invoice.reminder_level_id, self.level_final)
        self.assertEqual(
            self._mails(self.customer).mapped("subject"),
            [
                f"{self.company.name}: a friendly reminder of invoices due soon",
                f"{self.company.name}: payment reminder",
                f"{self.company.name}: second payment reminder",
                f"{self.company.name}: final notice of unpaid invoices",
            ],
        )
        self.assertEqual(self.customer.billing_reminder_count, 4)
        self.assertEqual(self.customer.billing_reminder_last_date, date(2027, 3, 2))
        self.assertEqual(self.customer.billing_reminder_level_id, self.level_final)

    def test_late_first_run_jumps_to_the_level_reached(self):
        invoice = self._invoice(300.00, "2027-01-01")
        reminders = self._run("2027-02-05")
        self.assertEqual(reminders.level_id, self.level_second)
        self.assertEqual(invoice.reminder_level_id, self.level_second)
        self.assertFalse(self._run("2027-02-20"), "levels already passed are not sent afterwards")

    def test_partial_payment_asks_the_residual(self):
        invoice = self._invoice(1000.00, "2027-01-01")
        self._pay(invoice, 400.00, date(2027, 1, 3))
        self.assertEqual(invoice.payment_state, "partial")
        reminders = self._run("2027-01-08")
        self.assertEqual(reminders.amount_due, 600.00)
        body = html2plaintext(self._mails(self.customer).body_html)
        self.assertIn(self._amount(1000.00), body, "what was invoiced")
        self.assertIn(self._amount(600.00), body, "what is left to pay")
        self.assertNotIn(self._amount(400.00), body)

    def test_payment_between_runs(self):
        paid = self._invoice(1000.00, "2027-01-01")
        unpaid = self._invoice(700.00, "2027-01-02")
        first = self._run("2027-01-09")
        self.assertEqual(first.invoice_ids, paid | unpaid)
        self._pay(paid, 1000.00, date(2027, 1, 15))
        self.assertIn(paid.payment_state, ("paid", "in_payment"))
        second = self._run("2027-02-01")
        self.assertEqual(second.invoice_ids, unpaid)
        self.assertEqual(second.level_id, self.level_second)
        self.assertEqual(second.amount_due, 700.00)
        self.assertEqual(paid.reminder_level_id, self.level_first, "a paid invoice is left alone")
        body = html2plaintext(self._mails(self.customer)[-1].body_html)
        self.assertNotIn(paid.name, body)
        self.assertIn(self._amount(700.00), body)

    def test_paid_in_payment_and_reversed_invoices_are_never_reminded(self):
        paid = self._invoice(100.00, "2027-01-01")
        self._pay(paid, 100.00, date(2027, 1, 2))
        reversed_invoice = self._invoice(200.00, "2027-01-01")
        with freeze_time("2027-01-03"):
            self.env["account.move.reversal"].with_context(
                active_model="account.move", active_ids=reversed_invoice.ids
            ).create(
                {"journal_id": reversed_invoice.journal_id.id, "date": date(2027, 1, 3)}
            ).refund_moves()
            credit_note = self.env["account.move"].search(
                [("reversed_entry_id", "=", reversed_invoice.id)]
            )
            credit_note.action_post()
        self.assertEqual(reversed_invoice.payment_state, "reversed")
        self.assertFalse(self._run("2027-01-20"))
        self.assertFalse(self._mails(self.customer))

    def test_excluded_customers_and_invoices(self):
        excluded_invoice = self._invoice(100.00, "2027-01-01")
        excluded_invoice.reminder_excluded = True
        reminded = self._invoice(200.00, "2027-01-01")
        self._invoice(300.00, "2027-01-01", partner=self.other_customer)
        self.other_customer.with_company(self.company).billing_reminder_excluded = True
        reminders = self._run("2027-01-08")
        self.assertEqual(reminders.partner_id, self.customer)
        self.assertEqual(reminders.invoice_ids, reminded)
        self.assertFalse(excluded_invoice.reminder_level_id)
        self.assertFalse(self._mails(self.other_customer))
        # lifting the exclusion reminds at the level reached by then
        self.other_customer.with_company(self.company).billing_reminder_excluded = False
        reminders = self._run("2027-01-09")
        self.assertEqual(reminders.partner_id, self.other_customer)
        self.assertEqual(reminders.level_id, self.level_first)

    def test_several_companies(self):
        company_2 = self.setup_other_company(name="Company Two")["company"]
        company_2.email = "billing@company2.example.com"
        self.Level._create_default_levels(company_2)
        levels_2 = self.Level.search([("company_id", "=", company_2.id)])
        self.assertEqual(levels_2.mapped("days"), [-3, 7, 30, 60])
        # the second company waits two weeks before its first reminder
        levels_2.filtered(lambda lvl: lvl.days == 7).days = 14
        invoice_1 = self._invoice(1000.00, "2027-01-01")
        invoice_2 = self._invoice(555.55, "2027-01-01", partner=self.customer, company=company_2)
        reminders = self._run("2027-01-08")
        self.assertEqual(reminders.company_id, self.company)
        self.assertEqual(reminders.invoice_ids, invoice_1)
        self.assertFalse(invoice_2.reminder_level_id, "overdue: too late for a courtesy reminder")
        reminders = self._run("2027-01-15")
        self.assertEqual(reminders.company_id, company_2)
        self.assertEqual(reminders.invoice_ids, invoice_2)
        self.assertEqual(reminders.level_id.days, 14)
        mail = self._mails(self.customer)[-1]
        self.assertEqual(mail.subject, "Company Two: payment reminder")
        self.assertIn("billing@company2.example.com", mail.email_from)
        self.assertIn(self._amount(555.55, company_2.currency_id), html2plaintext(mail.body_html))

    def test_one_failure_does_not_stop_the_run(self):
        no_email = self.env["res.partner"].create({"name": "Silent Ltd", "is_company": True})
        self._invoice(100.00, "2027-01-01", partner=no_email)
        self._invoice(200.00, "2027-01-01", partner=self.other_customer)
        reminders = self._run("2027-01-08")
        self.assertEqual(reminders.partner_id, self.other_customer)
        self.assertIn("no email address", no_email.message_ids[0].body)
        self.assertFalse(self.Reminder.search([("partner_id", "=", no_email.id)]))

    def test_batch_of_customers(self):
        """Several customers reminded in one run, sent together: each gets its own
        reminder, email and chatter message, of its own invoices at their own levels;
        one that cannot be emailed is logged and does not stop the others."""
        third = self.env["res.partner"].create(
            {"name": "Gemini Furniture", "is_company": True, "email": "ap@gemini.example.com"}
        )
        no_email = self.env["res.partner"].create({"name": "Silent Ltd", "is_company": True})
        azure_late = self._invoice(1000.00, "2027-01-01")
        azure_soon = self._invoice(250.00, "2027-01-11")
        deco_late = self._invoice(300.00, "2026-12-01", partner=self.other_customer)
        gemini_old = self._invoice(70.00, "2026-11-01", partner=third)
        gemini_new = self._invoice(80.00, "2026-12-31", partner=third)
        silent = self._invoice(90.00, "2027-01-01", partner=no_email)
        reminders = self._run("2027-01-08")
        self.assertEqual(len(reminders), 3, "one reminder for each customer that has an email")
        by_partner = {reminder.partner_id: reminder for reminder in reminders}
        self.assertEqual(set(by_partner), {self.customer, self.other_customer, third})
        self.assertEqual(by_partner[self.customer].invoice_ids, azure_late | azure_soon)
        self.assertEqual(by_partner[self.customer].level_id, self.level_first)
        self.assertEqual(by_partner[self.other_customer].invoice_ids, deco_late)
        self.assertEqual(by_partner[self.other_customer].level_id, self.level_second)
        self.assertEqual(by_partner[third].invoice_ids, gemini_old | gemini_new)
        self.assertEqual(by_partner[third].level_id, self.level_final)
        self.assertEqual(
            [
                invoice.reminder_level_id
                for invoice in (azure_late, azure_soon, deco_late, gemini_old, gemini_new)
            ],
            [
                self.level_first,
                self.level_courtesy,
                self.level_second,
                self.level_final,
                self.level_first,
            ],
        )
        for partner, recipient, invoice in (
            (self.customer, self.accounts, azure_late),
            (self.other_customer, self.other_customer, deco_late),
            (third, third, gemini_old),
        ):
            mail = self._mails(partner)
            self.assertEqual(len(mail), 1, "one email per customer")
            self.assertEqual(mail.recipient_ids, recipient)
            self.assertIn(invoice.name, html2plaintext(mail.body_html))
            self.assertIn(f"Dear {partner.name}", html2plaintext(mail.body_html))
            self.assertEqual(by_partner[partner].message_id, mail.mail_message_id)
            self.assertEqual(partner.message_ids[0], mail.mail_message_id)
            self.assertEqual(invoice.billing_reminder_ids, by_partner[partner])
        # the other customers' invoices are not in each other's emails
        self.assertNotIn(deco_late.name, html2plaintext(self._mails(self.customer).body_html))
        self.assertIn("no email address", no_email.message_ids[0].body)
        self.assertFalse(silent.reminder_level_id)
        self.assertFalse(self.Reminder.search([("partner_id", "=", no_email.id)]))
        self.assertFalse(self._run("2027-01-08"), "the same day again sends nothing")

    def test_batch_failing_is_sent_customer_by_customer(self):
        """When sending the customers together fails on one of them, each is sent on
        its own: the others are reminded, the failing one is logged, nothing of it kept."""
        self.level_first.mail_template_id.body_html = (
            '<p>Dear <t t-out="object.partner_id.name"/>'
            '<t t-if="object.partner_id.name == \'Deco Addict\'" t-out="1 / 0"/></p>'
        )
        azure = self._invoice(100.00, "2027-01-01")
        deco = self._invoice(200.00, "2027-01-01", partner=self.other_customer)
        reminders = self._run("2027-01-08")
        self.assertEqual(reminders.partner_id, self.customer)
        self.assertEqual(azure.reminder_level_id, self.level_first)
        self.assertFalse(deco.reminder_level_id)
        self.assertEqual(len(self._mails(self.customer)), 1)
        self.assertFalse(self._mails(self.other_customer))
        self.assertIn("Payment reminder not sent", self.other_customer.message_ids[0].body)
        self.assertFalse(self.Reminder.search([("partner_id", "=", self.other_customer.id)]))

    def test_letter_and_activity_channels(self):
        salesman = new_test_user(
            self.env,
            login="salesman_rem",
            groups="base.group_user,sales_team.group_sale_salesman",
            company_id=self.company.id,
            company_ids=[Command.set(self.company.ids)],
        )
        self.level_second.write({"channel": "letter"})
        self.level_final.write({"channel": "activity"})
        invoice = self._invoice(800.00, "2027-01-01")
        invoice.invoice_user_id = salesman
        self._run("2027-01-08")
        letter = self._run("2027-01-31")
        self.assertEqual(letter.channel, "letter")
        self.assertTrue(letter.attachment_id)
        self.assertEqual(self.customer.message_ids[0].attachment_ids, letter.attachment_id)
        letter_text = html2plaintext(letter.attachment_id.raw.decode())
        self.assertIn(invoice.name, letter_text)
        self.assertIn("800.00", letter_text)
        # the same invoice table as the emails, without the links a letter cannot follow
        self.assertIn("30 days late", letter_text)
        self.assertIn("Total due", letter_text)
        self.assertNotIn("View and pay", letter_text)
        activity = self._run("2027-03-02")
        self.assertEqual(activity.channel, "activity")
        todo = self.customer.activity_ids
        self.assertEqual(todo.user_id, salesman)
        self.assertIn("Final notice", todo.summary)
        note = html2plaintext(todo.note)
        self.assertIn(invoice.name, note)
        self.assertIn("60 days late", note)
        self.assertIn("Total due", note)

    # --- by hand ---

    def test_manual_reminder_with_preview(self):
        rep = new_test_user(
            self.env,
            login="billing_rep",
            groups="base.group_user,crm_billing.group_billing_user",
            company_id=self.company.id,
            company_ids=[Command.set(self.company.ids)],
        )
        invoice = self._invoice(1234.56, "2027-01-01")
        with freeze_time("2027-01-10"):
            action = self.customer.with_user(rep).action_billing_send_reminder()
            wizard = self.env[action["res_model"]].with_user(rep).browse(action["res_id"])
            self.assertEqual(wizard.customer_count, 1)
            self.assertEqual(wizard.preview_level_id, self.level_first)
            self.assertEqual(wizard.preview_recipients, self.accounts.email_formatted)
            preview = html2plaintext(wizard.preview_body)
            self.assertIn(invoice.name, preview)
            self.assertIn(self._amount(1234.56), preview)
            self.assertFalse(self.Reminder.search([]), "the preview sends nothing")
            self.assertFalse(self._mails(self.customer))
            wizard.action_send()
            reminder = self.Reminder.search([("partner_id", "=", self.customer.id)])
            self.assertRecordValues(
                reminder, [{"manual": True, "user_id": rep.id, "level_id": self.level_first.id}]
            )
            self.assertEqual(len(self._mails(self.customer)), 1)
            self.assertEqual(self.customer.message_ids[0].author_id, rep.partner_id)
            # the same rules: nothing more today, neither by hand nor by the run
            again = self.env[action["res_model"]].browse(
                self.customer.with_user(rep).action_billing_send_reminder()["res_id"]
            )
            self.assertEqual(again.customer_count, 0)
            self.assertFalse(self.Reminder._send_reminders())

    def test_manual_reminder_on_invoices(self):
        chosen = self._invoice(100.00, "2027-01-01")
        other = self._invoice(200.00, "2027-01-01")
        with freeze_time("2027-01-10"):
            action = chosen.action_billing_send_reminder()
            wizard = self.env[action["res_model"]].browse(action["res_id"])
            wizard.action_send()
        reminder = self.Reminder.search([("partner_id", "=", self.customer.id)])
        self.assertEqual(reminder.invoice_ids, chosen)
        self.assertFalse(other.reminder_level_id)
