# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import base64
import os
from datetime import date

from odoo import Command
from odoo.tests import HttpCase, tagged

from odoo.addons.account.tests.common import AccountTestInvoicingCommon

VERIFY_URL = "/billing/receipt/verify/"


@tagged("post_install", "-at_install")
class TestReceiptVerify(AccountTestInvoicingCommon, HttpCase):
    """The public verification page, through the running web server."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.company_data["company"]
        cls.customer = cls.env["res.partner"].create(
            {"name": "Marlowe Consulting", "street": "1 Quay Street", "city": "Cork"}
        )
        cls.invoice = cls.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": cls.customer.id,
                "invoice_date": date(2027, 1, 31),
                "invoice_line_ids": [
                    Command.create(
                        {"name": "Support", "quantity": 1, "price_unit": 1500.0, "tax_ids": []}
                    )
                ],
            }
        )
        cls.invoice.action_post()
        cls.payment = cls._register_payment(
            cls.invoice, amount=1234.5, payment_date=date(2027, 2, 10)
        )
        cls.payment._crm_billing_assign_receipt_number()
        cls.code = cls.payment.receipt_verification_code

    def _assert_reveals_nothing(self, body):
        for secret in (
            self.customer.name,
            self.invoice.name,
            self.payment.receipt_number,
            self.payment.name,
            "1,234.50",
        ):
            self.assertNotIn(secret, body)

    def test_code_is_short_stable_and_signed(self):
        self.assertEqual(len(self.code), 32)
        self.assertEqual(len(base64.b32decode(self.code)), 20, "first 20 bytes of the HMAC")
        self.assertEqual(self.payment._crm_billing_compute_verification_code(), self.code)
        self.assertNotIn(self.payment.receipt_number, self.code)

    def test_genuine_receipt_is_confirmed(self):
        response = self.url_open(VERIFY_URL + self.code)
        self.assertEqual(response.status_code, 200)
        body = response.text
        self.assertIn("Genuine receipt", body)
        self.assertIn(self.payment.receipt_number, body)
        self.assertIn("02/10/2027", body)
        self.assertIn("$\xa01,234.50", body.replace("&nbsp;", "\xa0"))
        self.assertIn(self.company.name, body)
        # the receipt's facts, nothing else
        self.assertNotIn(self.customer.name, body)
        self.assertNotIn(self.invoice.name, body)
        self.assertNotIn("1 Quay Street", body)
        self.assertEqual(response.headers.get("X-Robots-Tag"), "noindex, nofollow")

    def test_code_as_printed_is_accepted(self):
        printed = self.payment._crm_billing_receipt_code_display().lower()
        response = self.url_open("/billing/receipt/verify", params={"code": printed})
        self.assertEqual(response.status_code, 200)
        self.assertIn(self.payment.receipt_number, response.text)

    def test_forged_code_is_rejected(self):
        forged = base64.b32encode(os.urandom(20)).decode()
        response = self.url_open(VERIFY_URL + forged)
        self.assertEqual(response.status_code, 404)
        self.assertIn("Not a genuine receipt", response.text)
        self._assert_reveals_nothing(response.text)

    def test_altered_code_is_rejected(self):
        last = "A" if self.code[-1] != "A" else "B"
        for altered in (self.code[:-1] + last, self.code[:16], self.code + "A"):
            with self.subTest(altered=altered):
                response = self.url_open(VERIFY_URL + altered)
                self.assertEqual(response.status_code, 404)
                self.assertIn("Not a genuine receipt", response.text)
                self._assert_reveals_nothing(response.text)

    def test_no_enumeration_by_ids_or_numbers(self):
        for guess in (str(self.payment.id), self.payment.receipt_number.replace("/", "-"), "1"):
            with self.subTest(guess=guess):
                response = self.url_open(VERIFY_URL + guess)
                self.assertEqual(response.status_code, 404)
                self._assert_reveals_nothing(response.text)

    def test_altered_facts_no_longer_verify(self):
        """A receipt whose amount was changed after issuing is no longer genuine:
        the code is recomputed from the stored facts, not merely looked up."""
        self.env.cr.execute(
            "UPDATE account_payment SET amount = 9234.5 WHERE id = %s", [self.payment.id]
        )
        self.payment.invalidate_recordset(["amount"])
        response = self.url_open(VERIFY_URL + self.code)
        self.assertEqual(response.status_code, 404)
        self.assertIn("Not a genuine receipt", response.text)
        self.assertNotIn("9,234.50", response.text)

    def test_cancelled_payment_no_longer_verifies(self):
        self.payment.action_draft()
        self.payment.action_cancel()
        response = self.url_open(VERIFY_URL + self.code)
        self.assertEqual(response.status_code, 404)
        self._assert_reveals_nothing(response.text)

    def test_empty_form(self):
        response = self.url_open("/billing/receipt/verify")
        self.assertEqual(response.status_code, 200)
        self.assertIn("Enter the verification code", response.text)

    def test_page_wears_the_issuer_look_and_keeps_the_code(self):
        self.company.primary_color = "#123456"
        response = self.url_open(VERIFY_URL + self.code)
        self.assertIn(f"/logo.png?company={self.company.id}", response.text)
        self.assertIn("--cb-primary: #123456", response.text)
        # a failed check keeps what was typed, to correct a typo
        typo = self.code[:-1] + ("A" if self.code[-1] != "A" else "B")
        response = self.url_open("/billing/receipt/verify", params={"code": typo})
        self.assertEqual(response.status_code, 404)
        self.assertIn(f'value="{typo}"', response.text)
        # ... and says nothing of the company whose receipt it resembles
        self.assertNotIn(f"/logo.png?company={self.company.id}", response.text)
        self.assertNotIn("#123456", response.text)
