# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import subprocess
import tempfile
from datetime import date

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import HttpCase, new_test_user, tagged

from odoo.addons.account.tests.common import AccountTestInvoicingCommon

INVOICE_REPORT = "account.account_invoices"
ESTIMATE_REPORT = "crm_billing.action_report_estimate"
QUOTATION_REPORT = "sale.action_report_saleorder"
RECEIPT_REPORT = "account.action_report_payment_receipt"
LAYOUTS = ("classic", "modern", "compact")


class BillingDocumentsCommon(AccountTestInvoicingCommon, HttpCase):
    """Documents rendered by the real wkhtmltopdf, reading its stylesheets from the
    test server (HttpCase: the server shares the test transaction)."""

    @classmethod
    def get_default_groups(cls):
        return super().get_default_groups() | cls.quick_ref("sales_team.group_sale_manager")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["ir.config_parameter"].sudo().set_param("report.url", cls.base_url())
        cls.company = cls.company_data["company"]
        cls.company.write(
            {
                "street": "12 Harbour Road",
                "city": "Bristol",
                "zip": "BS1 5TY",
                "external_report_layout_id": cls.env.ref("crm_billing.external_layout_classic").id,
            }
        )
        cls.customer = cls.env["res.partner"].create(
            {
                "name": "Marlowe Consulting",
                "street": "1 Quay Street",
                "city": "Cork",
                "zip": "T12 X70A",
                "email": "accounts@marlowe.example.com",
                "lang": "en_US",
            }
        )
        cls.product = cls._create_product(
            name="Support subscription", lst_price=1234.56, taxes_id=cls.tax_sale_a
        )

    # --- helpers ---

    def _pdf_text(self, report_ref, records):
        """Render one real PDF and read its text back, whitespace normalised."""
        pdf, report_format = (
            self.env["ir.actions.report"]
            .with_context(force_report_rendering=True)
            ._render_qweb_pdf(report_ref, records.ids)
        )
        self.assertEqual(report_format, "pdf")
        return self._text_of(pdf)

    def _text_of(self, pdf):
        """The PDF's text as pdftotext reads it twice, whitespace normalised: in
        reading order (a sentence wrapped in a narrow column reads whole), then as laid
        out on the page (a label and the amount beside it read together)."""
        self.assertTrue(pdf.startswith(b"%PDF"), "a real PDF, rendered by wkhtmltopdf")
        texts = []
        with tempfile.NamedTemporaryFile(suffix=".pdf") as pdf_file:
            pdf_file.write(pdf)
            pdf_file.flush()
            for mode in ([], ["-layout"]):
                text = subprocess.run(
                    ["pdftotext", *mode, pdf_file.name, "-"],
                    check=True,
                    capture_output=True,
                    text=True,
                ).stdout
                # drop the zero-width spaces Odoo puts in monetary amounts
                texts.append(" ".join(text.replace("\u200b", "").split()))
        return " | ".join(texts)

    def _invoice(self, partner=None, price=1234.56, post=True):
        return self._create_invoice_one_line(
            product_id=self.product,
            price_unit=price,
            tax_ids=self.tax_sale_a,
            partner_id=partner or self.customer,
            invoice_date=date(2027, 1, 31),
            invoice_payment_term_id=self.env.ref("account.account_payment_term_30days"),
            post=post,
        )

    def _schedule_invoice(self):
        """A monthly schedule from 31 January 2027, run on 5 February: the schedule
        and its first (posted) invoice."""
        schedule = self.env["crm.billing.schedule"].create(
            {
                "partner_id": self.customer.id,
                "rule_type": "monthly",
                "interval": 1,
                "date_start": date(2027, 1, 31),
                "auto_post": True,
                "line_ids": [
                    Command.create(
                        {
                            "product_id": self.product.id,
                            "name": "Support",
                            "quantity": 1,
                            "price_unit": 1234.56,
                            "tax_ids": [Command.set(self.tax_sale_a.ids)],
                        }
                    )
                ],
            }
        )
        schedule.action_start()
        with freeze_time("2027-02-05"):
            invoice = schedule._generate_invoices(today=date(2027, 2, 5))
        return schedule, invoice

    def _quotation(self, partner=None):
        return self.env["sale.order"].create(
            {
                "partner_id": (partner or self.customer).id,
                "date_order": "2027-03-02 10:00:00",
                "validity_date": date(2027, 4, 1),
                "payment_term_id": self.env.ref("account.account_payment_term_30days").id,
                "order_line": [
                    Command.create(
                        {
                            "product_id": self.product.id,
                            "product_uom_qty": 2,
                            "price_unit": 1234.56,
                            "tax_ids": [Command.set(self.tax_sale_a.ids)],
                        }
                    )
                ],
            }
        )

    def _use_layout(self, name):
        self.company.external_report_layout_id = self.env.ref(f"crm_billing.external_layout_{name}")

    def _assert_company_block(self, text):
        """The letterhead is in the body, so it is printed even by a wkhtmltopdf
        that draws no page header."""
        self.assertIn(self.company.name, text)
        self.assertIn("12 Harbour Road", text)

    def _pay(self, invoices, amount, pay_date=date(2027, 2, 10)):
        return self._register_payment(invoices, amount=amount, payment_date=pay_date)


@tagged("post_install", "-at_install")
class TestBillingDocuments(BillingDocumentsCommon):
    def test_invoice_pdf_amounts_words_and_terms(self):
        invoice = self._invoice()
        self.assertEqual(invoice.amount_total, 1419.74)
        text = self._pdf_text(INVOICE_REPORT, invoice)
        self.assertIn("Invoice", text)
        self.assertIn(invoice.name, text)
        self.assertIn("Marlowe Consulting", text)
        self.assertIn("1 Quay Street", text)
        self.assertIn(self.company.name, text)
        self.assertIn("12 Harbour Road", text)
        self.assertIn("$ 1,234.56", text)  # untaxed
        self.assertIn("$ 185.18", text)  # 15% tax
        self.assertIn("$ 1,419.74", text)  # total
        self.assertIn(
            "One Thousand, Four Hundred And Nineteen Dollars and Seventy-Four Cents", text
        )
        self.assertIn("30 Days", text)  # payment terms
        self.assertIn(f"Payment reference {invoice.payment_reference}", text)
        self.assertIn("01/31/2027", text)  # invoice date
        self.assertIn("03/02/2027", text)  # due date, 30 days later

    def test_invoice_pdf_partly_paid_shows_amount_due(self):
        invoice = self._invoice()
        self._pay(invoice, 1000.0)
        text = self._pdf_text(INVOICE_REPORT, invoice)
        self.assertIn("Paid on 02/10/2027 $ 1,000.00", text)
        self.assertNotIn("-1,000.00", text)
        self.assertIn("Amount Due $ 419.74", text)

    def test_invoice_from_schedule_shows_its_period(self):
        schedule, invoice = self._schedule_invoice()
        self.assertEqual(len(invoice), 1)
        self.assertEqual(invoice.billing_period_start, date(2027, 1, 31))
        text = self._pdf_text(INVOICE_REPORT, invoice)
        self.assertIn("From 01/31/2027 to 02/27/2027", text)
        self.assertIn(schedule.name, text)
        self.assertIn("$ 1,419.74", text)

    def test_amount_in_words_in_the_customer_language(self):
        expected = {
            "en_US": "One Thousand, Four Hundred And Nineteen Dollars",
            "fr_FR": "Mille Quatre Cent Dix-Neuf",
            "de_DE": "Eintausendvierhundertneunzehn",
            "es_ES": "Mil Cuatrocientos Diecinueve",
        }
        cents = {
            "en_US": "Seventy-Four",
            "fr_FR": "Soixante-Quatorze",
            "de_DE": "Vierundsiebzig",
            "es_ES": "Setenta Y Cuatro",
        }
        invoice = self._invoice()
        for lang, words in expected.items():
            self.env["res.lang"]._activate_lang(lang)
            with self.subTest(lang=lang):
                self.customer.lang = lang
                text = self._pdf_text(INVOICE_REPORT, invoice)
                self.assertIn(words, text)
                self.assertIn(cents[lang], text)
                for other_lang, other_words in expected.items():
                    if other_lang != lang:
                        self.assertNotIn(other_words, text)

    def test_estimate_pdf(self):
        order = self._quotation()
        self.assertEqual(order.amount_total, 2839.49)
        for report in (ESTIMATE_REPORT, QUOTATION_REPORT):
            with self.subTest(report=report):
                text = self._pdf_text(report, order)
                self.assertIn(f"Estimate # {order.name}", text)
                self.assertNotIn("Quotation", text)
                self.assertIn("VALID UNTIL", text.upper())
                self.assertIn("This estimate is valid until 04/01/2027", text)
                self.assertIn("Name Signature Date", text)
                self.assertIn("$ 2,469.12", text)  # untaxed
                self.assertIn("$ 2,839.49", text)
                self.assertIn(
                    "Two Thousand, Eight Hundred And Thirty-Nine Dollars and Forty-Nine Cents",
                    text,
                )
                self._assert_company_block(text)
        # a confirmed order is an order, with nothing left to accept
        order.action_confirm()
        text = self._pdf_text(QUOTATION_REPORT, order)
        self.assertIn(f"Order # {order.name}", text)
        self.assertNotIn("Estimate", text)
        self.assertNotIn("Signature", text)

    def test_receipt_pdf_number_copy_and_settled_invoices(self):
        invoice = self._invoice()
        payment = self._pay(invoice, 1000.0)
        self.assertFalse(payment.receipt_number)
        text = self._pdf_text(RECEIPT_REPORT, payment)
        number = payment.receipt_number
        self.assertTrue(number)
        self.assertTrue(number.startswith("RCPT/2027/"), number)
        self.assertEqual(payment.receipt_print_count, 1)
        self.assertIn("Receipt", text)
        self.assertIn(number, text)
        self.assertIn("Marlowe Consulting", text)  # the payer
        self.assertIn("$ 1,000.00", text)
        self.assertIn("One Thousand Dollars", text)
        self.assertIn(payment.payment_method_line_id.name, text)
        self.assertIn(invoice.name, text)
        self.assertIn("$ 1,419.74", text)  # the invoice total
        self.assertIn("$ 419.74", text)  # still due on it
        self.assertIn(payment._crm_billing_receipt_code_display(), text)
        self.assertIn("/billing/receipt/verify/" + payment.receipt_verification_code, text)
        self.assertNotIn("COPY", text, "the first print is the original")

        text = self._pdf_text(RECEIPT_REPORT, payment)
        self.assertIn("COPY", text)
        self.assertEqual(payment.receipt_number, number, "a copy keeps the receipt number")
        self.assertEqual(payment.receipt_print_count, 2)
        text = self._pdf_text(RECEIPT_REPORT, payment)
        self.assertIn("COPY", text)
        self.assertEqual(payment.receipt_print_count, 3)

    def test_receipt_numbers_follow_the_company_sequence(self):
        invoice = self._invoice()
        first = self._pay(invoice, 100.0)
        second = self._pay(invoice, 200.0)
        (second | first)._crm_billing_assign_receipt_number()
        self.assertEqual(first.receipt_number, "RCPT/2027/00001", "numbered in date then id order")
        self.assertEqual(second.receipt_number, "RCPT/2027/00002")
        other_company = self.setup_other_company()["company"]
        Sequence = self.env["ir.sequence"].sudo()
        self.assertTrue(
            Sequence.search(
                [("code", "=", "crm.billing.receipt"), ("company_id", "=", self.company.id)]
            )
        )
        # made with the company, not at its first print (no two first prints race)
        self.assertTrue(
            Sequence.search(
                [("code", "=", "crm.billing.receipt"), ("company_id", "=", other_company.id)]
            )
        )

    def test_receipt_refused_unless_posted(self):
        """Only a posted payment has a receipt; Odoo's own document of a payment not
        posted still prints as in Odoo, without a receipt number."""
        invoice = self._invoice()
        draft = self.env["account.payment"].create(
            {
                "payment_type": "inbound",
                "partner_type": "customer",
                "partner_id": self.customer.id,
                "amount": 50.0,
                "date": date(2027, 2, 1),
            }
        )
        Report = self.env["ir.actions.report"].with_context(force_report_rendering=True)
        html = Report._render_qweb_html(RECEIPT_REPORT, draft.ids)[0].decode()
        self.assertIn("50.00", html)
        self.assertNotIn("RCPT/", html)
        pdf = Report._render_qweb_pdf(RECEIPT_REPORT, draft.ids)[0]
        self.assertTrue(pdf.startswith(b"%PDF"))
        self.assertFalse(draft.receipt_number)
        self.assertEqual(draft.receipt_print_count, 0)
        with self.assertRaisesRegex(UserError, "only be printed for a posted payment"):
            draft.action_print_receipt()

        cancelled = self._pay(invoice, 10.0)
        cancelled.action_draft()
        cancelled.action_cancel()
        self.assertEqual(cancelled.state, "canceled")
        with self.assertRaisesRegex(UserError, "only be printed for a posted payment"):
            cancelled.action_print_receipt()
        with self.assertRaisesRegex(UserError, "only be printed for a posted payment"):
            cancelled.action_send_receipt()
        self.assertFalse(cancelled.receipt_number)

    def test_partner_without_address_is_refused(self):
        """The estimate needs the customer's address; Odoo's invoice prints as in Odoo
        (payment reminders attach it whatever the customer's record holds)."""
        nowhere = self.env["res.partner"].create({"name": "Nowhere Ltd"})
        order = self.env["sale.order"].create(
            {
                "partner_id": nowhere.id,
                "order_line": [Command.create({"product_id": self.product.id})],
            }
        )
        Report = self.env["ir.actions.report"].with_context(force_report_rendering=True)
        with self.assertRaisesRegex(UserError, "customer has no address.*Nowhere Ltd"):
            Report._render_qweb_pdf(ESTIMATE_REPORT, order.ids)
        invoice = self._invoice(partner=nowhere)
        text = self._pdf_text(INVOICE_REPORT, invoice)
        self.assertIn(f"Invoice {invoice.name}", text)
        self.assertIn("Nowhere Ltd", text)

    def test_each_layout_dresses_every_document(self):
        """The three styles are document layouts: invoice, quotation and receipt all
        wear the company's choice, letterhead included."""
        invoice = self._invoice()
        order = self._quotation()
        payment = self._pay(invoice, 1000.0)
        for name in LAYOUTS:
            with self.subTest(layout=name):
                self._use_layout(name)
                text = self._pdf_text(INVOICE_REPORT, invoice)
                self._assert_company_block(text)
                self.assertIn(f"Invoice {invoice.name}", text)
                self.assertIn("Marlowe Consulting", text)
                self.assertIn("$ 1,419.74", text)
                text = self._pdf_text(QUOTATION_REPORT, order)
                self._assert_company_block(text)
                self.assertIn(f"Estimate # {order.name}", text)
                self.assertIn("$ 2,839.49", text)
                text = self._pdf_text(RECEIPT_REPORT, payment)
                self._assert_company_block(text)
                self.assertIn(f"Receipt {payment.receipt_number}", text)
                self.assertIn("$ 1,000.00", text)

    def test_layouts_are_chosen_in_document_layout(self):
        """Settings > Document Layout offers the three styles beside Odoo's own, and
        saving one makes it the company's layout."""
        layouts = self.env["report.layout"].search([])
        for name in LAYOUTS:
            with self.subTest(layout=name):
                layout = self.env.ref(f"crm_billing.report_layout_{name}")
                self.assertIn(layout, layouts)
                wizard = (
                    self.env["base.document.layout"]
                    .with_company(self.company)
                    .create(
                        {
                            "report_layout_id": layout.id,
                            "external_report_layout_id": layout.view_id.id,
                        }
                    )
                )
                wizard.document_layout_save()
                self.assertEqual(self.company.external_report_layout_id, layout.view_id)
                # the wizard's preview renders in the layout too
                self.assertIn(self.company.name, str(wizard.preview))
        self.assertNotIn("billing_document_style", self.env["res.company"]._fields)

    def test_one_invoice_whichever_door(self):
        """Sending stores Odoo's invoice PDF; the portal serves that same file, and it
        carries what crm_billing adds."""
        schedule, invoice = self._schedule_invoice()
        self.assertEqual(invoice.state, "posted")
        self.assertFalse(invoice.invoice_pdf_report_id)
        invoice.with_context(force_report_rendering=True)._generate_and_send(
            sending_methods=["manual"]
        )
        sent = invoice.invoice_pdf_report_id
        self.assertTrue(sent, "sending stores the invoice PDF")
        text = self._text_of(sent.raw)
        self.assertIn(f"Invoice {invoice.name}", text)
        self.assertIn("From 01/31/2027 to 02/27/2027", text)  # the service period
        self.assertIn("One Thousand, Four Hundred And Nineteen Dollars", text)
        self.assertIn(f"Payment reference {invoice.payment_reference}", text)
        self._assert_company_block(text)
        # the customer's download from the portal is the very same file
        self.authenticate(None, None)
        response = self.url_open(invoice.get_portal_url(report_type="pdf", download=True))
        self.assertEqual(response.status_code, 200)
        self.assertEqual(response.headers["Content-Type"], "application/pdf")
        self.assertEqual(response.content, sent.raw)
        # the print menu of the invoice offers Odoo's invoice, and no second one
        self.assertEqual(
            self.env["ir.actions.report"].search(
                [("model", "=", "account.move"), ("report_name", "like", "crm_billing")]
            ),
            self.env["ir.actions.report"],
        )
        self.assertEqual(
            self.env["account.move.send"]._get_default_pdf_report_id(invoice),
            self.env.ref(INVOICE_REPORT),
        )

    def test_reports_reachable_where_users_look(self):
        invoice_report = self.env.ref(INVOICE_REPORT)
        estimate_report = self.env.ref(ESTIMATE_REPORT)
        receipt_report = self.env.ref(RECEIPT_REPORT)
        # the quotation's Print menu keeps sale's own, which prints the estimate
        self.assertFalse(estimate_report.binding_model_id)
        self.assertEqual(self.env.ref(QUOTATION_REPORT).binding_model_id.model, "sale.order")
        # the invoice send wizard offers Odoo's invoice
        invoice = self._invoice()
        self.assertIn(invoice_report, invoice._get_available_action_reports())
        wizard = (
            self.env["account.move.send.wizard"]
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create({})
        )
        self.assertEqual(wizard.pdf_report_id, invoice_report)
        # the quotation send wizard: an estimate template for sale orders
        estimate_template = self.env.ref("crm_billing.mail_template_estimate")
        self.assertEqual(estimate_template.model, "sale.order")
        self.assertEqual(estimate_template.report_template_ids, estimate_report)
        # the payment's Print Receipt and Send Receipt buttons use Odoo's receipt
        payment = self._pay(invoice, 1000.0)
        self.assertEqual(payment.action_print_receipt()["report_name"], receipt_report.report_name)
        action = payment.action_send_receipt()
        self.assertTrue(payment.receipt_number, "numbered before the message quotes it")
        self.assertEqual(payment.receipt_print_count, 0, "opening the composer prints nothing")
        receipt_template = self.env.ref("crm_billing.mail_template_receipt")
        self.assertEqual(action["context"]["default_template_id"], receipt_template.id)
        self.assertEqual(receipt_template.report_template_ids, receipt_report)
        composer = self.env["mail.compose.message"].with_context(**action["context"]).create({})
        self.assertIn(payment.receipt_number, composer.subject)
        composer._action_send_mail()
        message = payment.message_ids[0]
        self.assertIn(payment.receipt_number, message.subject)
        self.assertTrue(message.attachment_ids, "the receipt is attached")
        self.assertEqual(payment.receipt_print_count, 1, "the receipt sent is the original")

    def test_sales_user_prints_an_estimate(self):
        salesman = new_test_user(
            self.env,
            login="docs_salesman",
            groups="sales_team.group_sale_salesman",
            company_id=self.company.id,
        )
        order = self.env["sale.order"].create(
            {
                "partner_id": self.customer.id,
                "user_id": salesman.id,
                "order_line": [Command.create({"product_id": self.product.id})],
            }
        )
        html = (
            self.env["ir.actions.report"]
            .with_user(salesman)
            ._render_qweb_html(ESTIMATE_REPORT, order.ids)[0]
        )
        self.assertIn(b"Estimate", html)
