# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import subprocess
import tempfile
from datetime import date

from freezegun import freeze_time
from psycopg2 import IntegrityError

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from .test_reports import BillingDocumentsCommon

STATEMENT_REPORT = "crm_billing.action_report_statement"


def _pdf_to_text(pdf):
    """The text of a PDF (pdftotext), whitespace normalised, without the zero-width
    spaces Odoo puts in amounts."""
    assert pdf.startswith(b"%PDF"), "a real PDF, rendered by wkhtmltopdf"
    with tempfile.NamedTemporaryFile(suffix=".pdf") as pdf_file:
        pdf_file.write(pdf)
        pdf_file.flush()
        text = subprocess.run(
            ["pdftotext", "-layout", pdf_file.name, "-"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    return " ".join(text.replace("\u200b", "").split())


class StatementCommon(BillingDocumentsCommon):
    """One customer's year: invoices over six months, two partial payments, a credit
    note and a payment in euros, all posted in a company keeping its books in
    dollars (1 USD = 2 EUR).

    ======== =============== ========== ========== =================================
    date     document        amount     due        settled by
    ======== =============== ========== ========== =================================
    10/01/26 invoice 0          115.00  10/31/26
    12/15/26 invoice Dec         92.00  01/14/27
    01/10/27 invoice 1        1,150.00  02/09/27   400.00 (02/10), 300 EUR (03/05)
    02/05/27 invoice 2          575.00  03/07/27   credit note 115.00 (02/20)
    03/01/27 invoice 3          230.00  03/31/27   50.00 (03/20)
    ======== =============== ========== ========== =================================

    Receivable balance on 03/31/2027: 2,162.00 invoiced - 715.00 paid or credited
    = 1,447.00."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.eur = cls.setup_other_currency("EUR", rates=[("2000-01-01", 2.0)])
        cls.Report = cls.env["report.crm_billing.report_statement"]
        cls.customer.ref = "MC-001"
        cls.inv0 = cls._statement_invoice(date(2026, 10, 1), 100.0)
        cls.inv_dec = cls._statement_invoice(date(2026, 12, 15), 80.0)
        cls.inv1 = cls._statement_invoice(date(2027, 1, 10), 1000.0)
        cls.inv2 = cls._statement_invoice(date(2027, 2, 5), 500.0)
        cls.inv3 = cls._statement_invoice(date(2027, 3, 1), 200.0)
        cls.pay1 = cls._statement_pay(cls.inv1, 400.0, date(2027, 2, 10))
        refund = cls.env["account.move"].create(
            {
                "move_type": "out_refund",
                "partner_id": cls.customer.id,
                "invoice_date": date(2027, 2, 20),
                "ref": "Returned licence",
                "invoice_line_ids": [
                    Command.create(
                        {
                            "product_id": cls.product.id,
                            "quantity": 1,
                            "price_unit": 100.0,
                            "tax_ids": [Command.set(cls.tax_sale_a.ids)],
                        }
                    )
                ],
            }
        )
        refund.action_post()
        cls.refund = refund
        (cls.inv2 | refund).line_ids.filtered(
            lambda line: line.account_type == "asset_receivable"
        ).reconcile()
        cls.pay_eur = cls._statement_pay(cls.inv1, 300.0, date(2027, 3, 5), currency=cls.eur)
        cls.pay2 = cls._statement_pay(cls.inv3, 50.0, date(2027, 3, 20))
        cls.company.email = "billing@company.example.com"
        cls.company.external_report_layout_id = cls.env.ref("web.external_layout_standard")
        cls.other = cls.env["res.partner"].create(
            {
                "name": "Deco Addict",
                "is_company": True,
                "street": "3 Dock Road",
                "email": "pay@deco.example.com",
            }
        )
        cls._statement_invoice(date(2027, 3, 10), 10.0, partner=cls.other)
        cls.idle = cls.env["res.partner"].create(
            {"name": "Idle Ltd", "is_company": True, "email": "idle@example.com"}
        )
        Partner = cls.env["res.partner"]
        cls.company_a = Partner.create(
            {"name": "Aldebaran Ltd", "is_company": True, "street": "1 Main St", "city": "Cork"}
        )
        cls.company_b = Partner.create(
            {"name": "Betelgeuse GmbH", "is_company": True, "street": "2 Ring", "city": "Bonn"}
        )
        contact_a = Partner.create(
            {"name": "Alice Aldebaran", "parent_id": cls.company_a.id, "email": "a@a.example.com"}
        )
        cls.user_a = new_test_user(
            cls.env,
            login="stmt_portal_a",
            password="stmt_portal_a_pw",
            groups="base.group_portal",
            partner_id=contact_a.id,
        )
        cls.user_b = new_test_user(
            cls.env,
            login="stmt_portal_b",
            password="stmt_portal_b_pw",
            groups="base.group_portal",
            name="Bob Betelgeuse",
            email="b@b.example.com",
        )
        cls.user_b.partner_id.parent_id = cls.company_b
        cls.inv_a = cls.init_invoice(
            "out_invoice",
            partner=cls.company_a,
            invoice_date="2027-01-15",
            amounts=[321.09],
            taxes=[],
            post=True,
        )
        cls.inv_b = cls.init_invoice(
            "out_invoice",
            partner=cls.company_b,
            invoice_date="2027-01-20",
            amounts=[987.65],
            taxes=[],
            post=True,
        )
        cls.rep = new_test_user(
            cls.env,
            login="stmt_rep",
            groups="sales_team.group_sale_salesman",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )
        cls.employee = new_test_user(
            cls.env,
            login="stmt_employee",
            groups="base.group_user",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )

    @classmethod
    def _statement_invoice(cls, invoice_date, price, partner=None):
        return cls._create_invoice_one_line(
            product_id=cls.product,
            price_unit=price,
            tax_ids=cls.tax_sale_a,
            partner_id=partner or cls.customer,
            invoice_date=invoice_date,
            invoice_payment_term_id=cls.env.ref("account.account_payment_term_30days"),
            post=True,
        )

    @classmethod
    def _statement_pay(cls, invoice, amount, pay_date, currency=None):
        vals = {"amount": amount, "payment_date": pay_date}
        if currency:
            vals["currency_id"] = currency.id
        return cls._register_payment(invoice, **vals)

    def _statement(self, statement_type, date_to, date_from=None, partner=None):
        partner = partner or self.customer
        return self.Report._get_statements(
            partner,
            {"statement_type": statement_type, "date_from": date_from, "date_to": date_to},
        )[partner]

    def _receivable_balance(self, partner, on):
        """The customer's receivable balance on a day, from its journal items."""
        lines = self.env["account.move.line"].search(
            [
                ("partner_id", "=", partner.id),
                ("account_type", "=", "asset_receivable"),
                ("parent_state", "=", "posted"),
                ("date", "<=", on),
            ]
        )
        return round(sum(lines.mapped("debit")) - sum(lines.mapped("credit")), 2)

    def _words(self, amount, currency=None):
        return (
            (currency or self.company.currency_id).with_context(lang="en_US").amount_to_text(amount)
        )


@tagged("post_install", "-at_install")
class TestCustomerStatements(StatementCommon):
    """Figures to the cent, the PDFs read back, printing, sending, the monthly run,
    the reminders' attachment and the portal: one data set for all (its set-up is
    the expensive part)."""

    # --- figures ---
    def test_data_as_odoo_books_it(self):
        self.assertEqual(self.inv1.amount_residual, 600.00)
        self.assertEqual(self.inv2.amount_residual, 460.00)
        self.assertEqual(self.inv3.amount_residual, 180.00)
        self.assertEqual(self.pay_eur.amount, 300.00)
        self.assertEqual(self.pay_eur.currency_id, self.eur)
        self.assertEqual(self.customer.credit, 1447.00)
        self.assertEqual(self._receivable_balance(self.customer, date(2027, 3, 31)), 1447.00)
        self.assertEqual(self._receivable_balance(self.customer, date(2027, 2, 28)), 1417.00)

    @freeze_time("2027-04-15")
    def test_outstanding_ageing_at_pinned_date(self):
        statement = self._statement("outstanding", date(2027, 3, 31))
        self.assertEqual(len(statement["sections"]), 1)
        section = statement["sections"][0]
        self.assertEqual(section["currency"], self.company.currency_id)
        self.assertEqual(
            [(line["reference"], line["open"]) for line in section["lines"]],
            [
                (self.inv0.name, 115.00),
                (self.inv_dec.name, 92.00),
                (self.inv1.name, 600.00),
                (self.inv2.name, 460.00),
                (self.inv3.name, 180.00),
            ],
        )
        self.assertEqual(
            section["buckets"],
            {
                "not_due": 180.00,  # due on the statement date
                "1_30": 460.00,  # 24 days late
                "31_60": 600.00,  # 50 days late
                "61_90": 92.00,  # 76 days late
                "90_plus": 115.00,  # 151 days late
            },
        )
        self.assertEqual(section["closing"], 1447.00)
        self.assertEqual(statement["company_balance"], 1447.00)
        self.assertEqual(
            section["closing"], self._receivable_balance(self.customer, date(2027, 3, 31))
        )
        self.assertFalse(statement["show_company_balance"])

    def test_outstanding_before_later_payments(self):
        """On 02/28 the euro payment (03/05) had not come: invoice 1 was open for 750.00."""
        statement = self._statement("outstanding", date(2027, 2, 28))
        section = statement["sections"][0]
        self.assertEqual(
            [(line["reference"], line["open"]) for line in section["lines"]],
            [
                (self.inv0.name, 115.00),
                (self.inv_dec.name, 92.00),
                (self.inv1.name, 750.00),
                (self.inv2.name, 460.00),
            ],
        )
        self.assertEqual(
            section["buckets"],
            {"not_due": 460.00, "1_30": 750.00, "31_60": 92.00, "61_90": 0.0, "90_plus": 115.00},
        )
        self.assertEqual(section["closing"], 1417.00)
        self.assertEqual(
            section["closing"], self._receivable_balance(self.customer, date(2027, 2, 28))
        )

    def test_activity_running_balance_to_the_cent(self):
        statement = self._statement("activity", date(2027, 3, 31), date_from=date(2027, 2, 1))
        self.assertEqual(len(statement["sections"]), 1)
        section = statement["sections"][0]
        self.assertEqual(section["opening"], 1357.00)  # 115.00 + 92.00 + 1,150.00
        self.assertEqual(
            [(line["reference"], line["amount"], line["balance"]) for line in section["lines"]],
            [
                (self.inv2.name, 575.00, 1932.00),
                (self.pay1.move_id.name, -400.00, 1532.00),
                (self.refund.name, -115.00, 1417.00),
                (self.inv3.name, 230.00, 1647.00),
                # 300 EUR settled 150.00 of invoice 1: it counts in dollars
                (self.pay_eur.move_id.name, -150.00, 1497.00),
                (self.pay2.move_id.name, -50.00, 1447.00),
            ],
        )
        self.assertEqual(" ".join(section["lines"][4]["note"].split()), "300.00 €")
        self.assertEqual(section["closing"], 1447.00)
        self.assertEqual(
            section["closing"], self._receivable_balance(self.customer, date(2027, 3, 31))
        )
        self.assertEqual(statement["company_balance"], 1447.00)
        # the activity's closing balance is what the outstanding statement lists
        outstanding = self._statement("outstanding", date(2027, 3, 31))
        self.assertEqual(outstanding["sections"][0]["closing"], section["closing"])
        # a period without movement: opening = closing
        quiet = self._statement("activity", date(2027, 4, 30), date_from=date(2027, 4, 1))
        self.assertEqual(quiet["sections"][0]["opening"], 1447.00)
        self.assertEqual(quiet["sections"][0]["closing"], 1447.00)
        self.assertFalse(quiet["sections"][0]["lines"])

    def test_unmatched_payment_in_other_currency(self):
        """An advance in euros matched to nothing is owed back in euros; the company
        balance still equals the receivable balance, to the cent."""
        advance = self.env["account.payment"].create(
            {
                "payment_type": "inbound",
                "partner_type": "customer",
                "partner_id": self.customer.id,
                "amount": 41.18,
                "currency_id": self.eur.id,
                "date": date(2027, 3, 25),
            }
        )
        advance.action_post()
        statement = self._statement("activity", date(2027, 3, 31), date_from=date(2027, 3, 1))
        usd, eur = statement["sections"]
        self.assertEqual(usd["currency"], self.company.currency_id)
        self.assertEqual(usd["closing"], 1447.00)
        self.assertEqual(eur["currency"], self.eur)
        self.assertEqual(eur["opening"], 0.0)
        self.assertEqual([line["amount"] for line in eur["lines"]], [-41.18])
        self.assertEqual(eur["closing"], -41.18)
        self.assertTrue(statement["show_company_balance"])
        self.assertEqual(statement["company_balance"], 1447.00 - 20.59)
        self.assertEqual(
            statement["company_balance"],
            self._receivable_balance(self.customer, date(2027, 3, 31)),
        )
        outstanding = self._statement("outstanding", date(2027, 3, 31))
        self.assertEqual([s["closing"] for s in outstanding["sections"]], [1447.00, -41.18])

    def test_bad_dates_refused(self):
        with self.assertRaisesRegex(UserError, "cannot start on 2027-03-31, after its end"):
            self._statement("activity", date(2027, 3, 1), date_from=date(2027, 3, 31))
        wizard = self.env["crm.billing.statement.wizard"].create(
            {"partner_ids": [Command.set(self.customer.ids)], "statement_type": "outstanding"}
        )
        with self.assertRaisesRegex(ValidationError, "cannot start on"):
            wizard.write(
                {
                    "statement_type": "activity",
                    "date_from": date(2027, 3, 31),
                    "date_to": date(2027, 3, 1),
                }
            )

    # --- the documents, as the customer reads them (real PDFs) ---

    @freeze_time("2027-04-15")
    def test_outstanding_pdf(self):
        pdf = self._pdf_text_with("outstanding", self.customer, {"date_to": "2027-03-31"})
        self.assertIn("Outstanding Statement", pdf)
        self.assertIn("Marlowe Consulting", pdf)
        self.assertIn("1 Quay Street", pdf)
        self.assertIn("03/31/2027", pdf)
        for invoice, amount in (
            (self.inv0, "$ 115.00"),
            (self.inv_dec, "$ 92.00"),
            (self.inv1, "$ 600.00"),
            (self.inv2, "$ 460.00"),
            (self.inv3, "$ 180.00"),
        ):
            self.assertIn(invoice.name, pdf)
            self.assertIn(amount, pdf)
        self.assertIn("Not due 1-30 days 31-60 days 61-90 days Over 90 days Total", pdf)
        self.assertIn("$ 180.00 $ 460.00 $ 600.00 $ 92.00 $ 115.00 $ 1,447.00", pdf)
        self.assertIn("Amount due $ 1,447.00", pdf)
        self.assertIn(self._words(1447.00), pdf)
        self.assertNotIn(self.pay1.move_id.name, pdf)

    def test_activity_pdf(self):
        pdf = self._pdf_text_with(
            "activity", self.customer, {"date_from": "2027-02-01", "date_to": "2027-03-31"}
        )
        self.assertIn("Activity Statement", pdf)
        self.assertIn("02/01/2027 to 03/31/2027", pdf)
        self.assertIn("01/31/2027 Opening balance $ 1,357.00", pdf)
        self.assertIn(f"{self.inv2.name} Invoice", pdf)
        self.assertIn("$ 575.00 $ 1,932.00", pdf)
        self.assertIn(f"{self.refund.name} Credit Note: Returned licence", pdf)
        self.assertIn("-$ 115.00 $ 1,417.00", pdf.replace("$ -", "-$ "))
        self.assertIn(self.pay_eur.move_id.name, pdf)
        self.assertIn(f"Payment: {self.inv1.name} (300.00 €) $ -150.00 $ 1,497.00", pdf)
        self.assertIn("$ 1,497.00", pdf)
        self.assertIn("03/31/2027 Closing balance $ 1,447.00", pdf)
        self.assertIn("Amount due $ 1,447.00", pdf)
        self.assertIn(self._words(1447.00), pdf)
        # invoice 1 is before the period: in the opening balance, not listed
        self.assertNotIn(f"{self.inv1.name} Invoice", pdf)

    def _pdf_text_with(self, statement_type, partners, dates):
        """The statement rendered by wkhtmltopdf, its text read back."""
        pdf, _format = (
            self.env["ir.actions.report"]
            .with_context(force_report_rendering=True)
            ._render_qweb_pdf(
                STATEMENT_REPORT, partners.ids, data={"statement_type": statement_type, **dates}
            )
        )
        return _pdf_to_text(pdf)

    # --- printing and sending ---

    def _wizard(self, partners, user=None, **vals):
        Wizard = self.env["crm.billing.statement.wizard"]
        if user:
            Wizard = Wizard.with_user(user)
        return Wizard.with_context(active_model="res.partner", active_ids=partners.ids).create(vals)

    def _mails(self, partner):
        return self.env["mail.mail"].search(
            [("model", "=", "res.partner"), ("res_id", "=", partner.id)], order="id"
        )

    def test_print_from_customers(self):
        action = self.customer.action_billing_statement()
        self.assertEqual(action["res_model"], "crm.billing.statement.wizard")
        wizard = self._wizard(
            self.customer | self.other | self.idle,
            statement_type="activity",
            date_from=date(2027, 3, 1),
            date_to=date(2027, 3, 31),
        )
        self.assertEqual(wizard.partner_ids, self.customer | self.other | self.idle)
        report = wizard.action_print()
        self.assertEqual(report["report_name"], "crm_billing.report_statement")
        # the idle customer owes nothing and did nothing: left out
        self.assertEqual(report["context"]["active_ids"], (self.customer | self.other).ids)
        self.assertEqual(report["data"]["date_from"], "2027-03-01")
        html = (
            self.env["ir.actions.report"]
            ._render_qweb_html(
                STATEMENT_REPORT, report["context"]["active_ids"], data=report["data"]
            )[0]
            .decode()
        )
        self.assertIn("Marlowe Consulting", html)
        self.assertIn("Deco Addict", html)
        wizard.include_zero_balance = True
        report = wizard.action_print()
        self.assertEqual(len(report["context"]["active_ids"]), 3)
        only_idle = self._wizard(self.idle)
        with self.assertRaisesRegex(UserError, "Nothing to print or send"):
            only_idle.action_print()

    def test_send_one_mail_per_customer_with_pdf(self):
        wizard = self._wizard(self.customer | self.other, user=self.rep, date_to=date(2027, 3, 31))
        wizard.with_context(force_report_rendering=True).action_send()
        statements = self.env["crm.billing.statement"].search([])
        self.assertEqual(statements.partner_id, self.customer | self.other)
        self.assertTrue(all(statements.mapped("manual")))
        self.assertEqual(statements.user_id, self.rep)
        mine = statements.filtered(lambda s: s.partner_id == self.customer)
        self.assertEqual(" ".join(mine.amount_due.split()), "$ 1,447.00")
        for partner in self.customer | self.other:
            mails = self._mails(partner)
            self.assertEqual(len(mails), 1, "one email per customer")
            self.assertEqual(mails.recipient_ids, partner)
            self.assertIn("statement", mails.subject)
            attachment = mails.attachment_ids
            self.assertEqual(len(attachment), 1)
            self.assertEqual(attachment.mimetype, "application/pdf")
            self.assertTrue(attachment.raw.startswith(b"%PDF"))
            self.assertTrue(attachment.name.startswith(f"Statement {partner.name}"))
        self.assertIn("$ 1,447.00", self._mails(self.customer).body_html)
        self.assertEqual(self._mails(self.customer).author_id, self.rep.partner_id)

    def test_send_refused(self):
        self.other.email = False
        with self.assertRaisesRegex(UserError, "no email address.*Deco Addict"):
            self._wizard(self.customer | self.other, date_to=date(2027, 3, 31)).action_send()
        self.assertFalse(self.env["crm.billing.statement"].search([]))
        # a customer of another company is not the rep's to read
        company_2 = self.env["res.company"].create({"name": "Other Co"})
        hidden = self.env["res.partner"].create(
            {"name": "Hidden SA", "email": "h@example.com", "company_id": company_2.id}
        )
        wizard = self._wizard(self.customer, user=self.rep, date_to=date(2027, 3, 31))
        wizard.sudo().partner_ids = hidden
        with self.assertRaises(AccessError):
            wizard.action_send()
        with self.assertRaises(AccessError):
            wizard.action_print()
        self.assertFalse(self.env["crm.billing.statement"].search([]))
        self.assertFalse(self._mails(hidden))
        # an employee without billing or invoicing rights reads no statement
        with self.assertRaises(AccessError):
            self._wizard(self.customer, user=self.employee)
        with self.assertRaises(AccessError):
            self.env["ir.actions.report"].with_user(self.employee)._render_qweb_html(
                STATEMENT_REPORT, self.customer.ids
            )

    def test_monthly_run_once_per_customer_and_month(self):
        # the customer asked for it, Deco Addict has it from the company's default,
        # Idle Ltd too but has nothing to be told, a fourth customer said no
        self.company.billing_statement_monthly_default = True
        self.assertTrue(self.other.billing_statement_monthly)
        self.customer.billing_statement_monthly = True
        (self.company_a | self.company_b).billing_statement_monthly = False
        refusing = self.env["res.partner"].create(
            {"name": "No Thanks Ltd", "email": "no@example.com", "billing_statement_monthly": False}
        )
        self._statement_invoice(date(2027, 3, 12), 20.0, partner=refusing)
        Statement = self.env["crm.billing.statement"]
        with freeze_time("2027-04-01"):
            self.assertEqual(
                Statement._get_partners_to_send_monthly(date(2027, 4, 1)),
                self.customer | self.other,
            )
            sent = Statement._send_monthly_statements()
        self.assertEqual(sent.partner_id, self.customer | self.other)
        self.assertEqual(set(sent.mapped("month")), {date(2027, 3, 1)})
        self.assertEqual(set(sent.mapped("date_from")), {date(2027, 3, 1)})
        self.assertEqual(set(sent.mapped("date_to")), {date(2027, 3, 31)})
        self.assertEqual(set(sent.mapped("statement_type")), {"activity"})
        self.assertFalse(any(sent.mapped("manual")))
        self.assertEqual(len(self._mails(self.customer)), 1)
        self.assertEqual(len(self._mails(self.other)), 1)
        self.assertFalse(self._mails(refusing) | self._mails(self.idle))
        # the same run again, later in the month: nothing
        with freeze_time("2027-04-20"):
            self.assertFalse(Statement._get_partners_to_send_monthly(date(2027, 4, 20)))
            self.assertFalse(Statement._send_monthly_statements())
        self.assertEqual(len(self._mails(self.customer)), 1)
        # the database refuses a second statement for the month
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError), self.cr.savepoint():
            sent[0].sudo().copy()
        # next month, the next one
        with freeze_time("2027-05-01"):
            self.assertEqual(
                Statement._send_monthly_statements().partner_id, self.customer | self.other
            )

    def test_reminder_attaches_outstanding_statement(self):
        Level = self.env["crm.billing.reminder.level"]
        Level._create_default_levels(self.company)
        levels = Level.search([("company_id", "=", self.company.id), ("days", ">", 0)])
        levels.write({"attach_statement": True, "attach_invoices": False})
        with freeze_time("2027-04-01"):
            reminders = self.env["crm.billing.reminder"]._send_reminders(
                partners=self.customer, today=date(2027, 4, 1), raise_errors=True
            )
        self.assertEqual(len(reminders), 1)
        attachments = reminders.message_id.attachment_ids
        self.assertEqual(len(attachments), 1)
        self.assertTrue(attachments.name.startswith("Statement Marlowe Consulting 2027-04-01"))
        self.assertIn(b"Outstanding Statement", attachments.raw)  # HTML in tests

    # --- portal ---

    def test_own_statement_only(self):
        self.authenticate("stmt_portal_a", "stmt_portal_a_pw")
        page = self.url_open("/my/billing")
        self.assertEqual(page.status_code, 200)
        self.assertIn('action="/my/billing/statement"', page.text)
        response = self.url_open(
            "/my/billing/statement?statement_type=activity&date_from=2027-01-01"
            f"&date_to=2027-01-31&report_type=html&partner_id={self.company_b.id}"
        )
        self.assertEqual(response.status_code, 200)
        self.assertIn("Aldebaran Ltd", response.text)
        self.assertIn(self.inv_a.name, response.text)
        self.assertIn("321.09", response.text)
        self.assertNotIn("Betelgeuse", response.text)
        self.assertNotIn(self.inv_b.name, response.text)
        self.assertNotIn("987.65", response.text)
        # the dates asked for are the statement's: nothing happened in December
        response = self.url_open(
            "/my/billing/statement?statement_type=activity&date_from=2026-12-01"
            "&date_to=2026-12-31&report_type=html"
        )
        self.assertNotIn(self.inv_a.name, response.text)
        # the download, as a PDF file named after the customer
        response = self.url_open(
            "/my/billing/statement?statement_type=outstanding&date_to=2027-02-01&download=1"
        )
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.headers["Content-Type"], "application/pdf")
        self.assertIn("Statement_Aldebaran_Ltd.pdf", response.headers["Content-Disposition"])
        # unreadable dates fall back to the defaults rather than failing
        response = self.url_open("/my/billing/statement?date_from=yesterday&report_type=html")
        self.assertEqual(response.status_code, 200)

        self.authenticate("stmt_portal_b", "stmt_portal_b_pw")
        response = self.url_open(
            "/my/billing/statement?statement_type=outstanding&date_to=2027-02-01&report_type=html"
        )
        self.assertIn("Betelgeuse GmbH", response.text)
        self.assertIn("987.65", response.text)
        self.assertNotIn("Aldebaran", response.text)

    @mute_logger("odoo.http")
    def test_other_customer_refused(self):
        self.authenticate("stmt_portal_a", "stmt_portal_a_pw")
        # Odoo's own report route, with the other customer's id
        response = self.url_open(f"/report/html/crm_billing.report_statement/{self.company_b.id}")
        self.assertNotEqual(response.status_code, 200)
        self.assertNotIn("987.65", response.text)
        with self.assertRaises(AccessError):
            self.env["ir.actions.report"].with_user(self.user_a)._render_qweb_html(
                STATEMENT_REPORT, self.company_b.ids
            )
        # its own, through the ORM, is allowed
        html = (
            self.env["ir.actions.report"]
            .with_user(self.user_a)
            ._render_qweb_html(
                STATEMENT_REPORT, self.company_a.ids, data={"date_to": "2027-02-01"}
            )[0]
            .decode()
        )
        self.assertIn("321.09", html)
        # visitors are sent to log in
        self.authenticate(None, None)
        response = self.url_open("/my/billing/statement", allow_redirects=False)
        self.assertIn(response.status_code, (302, 303))
        self.assertIn("/web/login", response.headers["Location"])
