# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from fractions import Fraction

from dateutil.relativedelta import relativedelta

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import JsonRpcException, new_test_user, tagged
from odoo.tools import mute_logger

from odoo.addons.account.tests.common import AccountTestInvoicingHttpCommon

from ..models import billing_period_math as pm


@tagged("post_install", "-at_install")
class TestLifecyclePortal(AccountTestInvoicingHttpCommon):
    """Two portal customers serve themselves, each on its own schedule only, within
    the schedule's rules, over HTTP, JSON-RPC and in a real browser."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.today = fields.Date.context_today(cls.env.user)
        Partner = cls.env["res.partner"]
        cls.company_a = Partner.create(
            {"name": "Aldebaran Ltd", "is_company": True, "email": "ap@a.example.com"}
        )
        cls.company_b = Partner.create(
            {"name": "Betelgeuse GmbH", "is_company": True, "email": "ap@b.example.com"}
        )
        cls.contact_a = Partner.create(
            {
                "name": "Alice Aldebaran",
                "parent_id": cls.company_a.id,
                "email": "alice@a.example.com",
            }
        )
        cls.contact_b = Partner.create(
            {"name": "Bob Betelgeuse", "parent_id": cls.company_b.id, "email": "bob@b.example.com"}
        )
        cls.user_a = new_test_user(
            cls.env,
            login="life_alice",
            password="life_alice_pw",
            name="Alice Aldebaran",
            groups="base.group_portal",
            partner_id=cls.contact_a.id,
        )
        cls.user_b = new_test_user(
            cls.env,
            login="life_bob",
            password="life_bob_pw",
            name="Bob Betelgeuse",
            groups="base.group_portal",
            partner_id=cls.contact_b.id,
        )
        cls.product = cls._create_product(name="Seat licence", lst_price=100.0, taxes_id=False)
        cls.schedule_a = cls._portal_schedule(cls.company_a)
        cls.schedule_b = cls._portal_schedule(cls.company_b)
        (cls.schedule_a | cls.schedule_b)._generate_invoices(cls.today, raise_errors=True)
        cls.reason = cls.env.ref("crm_billing.close_reason_not_needed")

    @classmethod
    def _portal_schedule(cls, partner):
        schedule = cls.env["crm.billing.schedule"].create(
            {
                "partner_id": partner.id,
                "rule_type": "monthly",
                "date_start": cls.today.replace(day=1),
                "auto_post": True,
                "portal_change_allowed": True,
                "portal_quantity_min": 1,
                "portal_quantity_max": 10,
                "portal_cancel_allowed": True,
                "line_ids": [
                    Command.create(
                        {
                            "product_id": cls.product.id,
                            "name": "Seat licence",
                            "quantity": 2,
                            "price_unit": 100.0,
                        }
                    )
                ],
            }
        )
        schedule.action_start()
        return schedule

    def _expected_upgrade(self, seats):
        """seats more at 100.00 from today to the end of this month, to the cent."""
        start = self.today.replace(day=1)
        end = start + relativedelta(months=1, days=-1)
        share = pm.period_share(start, end, 1, day_from=self.today)
        return self.env.company.currency_id.round(float(Fraction(100 * seats) * share))

    def _post(self, url, **data):
        return self.url_open(url, data={"csrf_token": self.csrf_token(), **data})

    def csrf_token(self):
        page = self.url_open(f"/my/billing/{self.schedule_a.id}")
        marker = 'name="csrf_token" value="'
        start = page.text.index(marker) + len(marker)
        return page.text[start : page.text.index('"', start)]

    def test_quantity_change_previewed_then_confirmed(self):
        self.authenticate("life_alice", "life_alice_pw")
        page = self.url_open(f"/my/billing/{self.schedule_a.id}")
        self.assertIn("Manage your subscription", page.text)
        line = self.schedule_a.line_ids
        preview = self._post(
            f"/my/billing/{self.schedule_a.id}/change", line_id=line.id, quantity=5
        )
        self.assertEqual(preview.status_code, 200)
        expected = self._expected_upgrade(3)
        self.assertIn("Invoiced now, prorated for the rest of the period", preview.text)
        self.assertIn(f"{expected:,.2f}", preview.text)
        self.assertEqual(line.quantity, 2, "nothing changes before the customer confirms")
        done = self._post(
            f"/my/billing/{self.schedule_a.id}/change", line_id=line.id, quantity=5, confirm=1
        )
        self.assertIn("Your subscription has been changed.", done.text)
        line.invalidate_recordset()
        self.assertEqual(line.quantity, 5)
        change = self.schedule_a.change_ids
        self.assertEqual((change.source, change.user_id), ("portal", self.user_a))
        self.assertEqual(change.amount, expected)
        if expected:
            self.assertEqual(change.move_id.amount_untaxed, expected)
            self.assertEqual(change.move_id.state, "draft", "a portal user posts nothing")
        note = self.schedule_a.message_ids.filtered(lambda m: "changed the schedule" in m.body)
        self.assertEqual(note.author_id, self.contact_a)
        self.assertIn("Alice Aldebaran", note.body)

    @mute_logger("odoo.http")
    def test_outside_the_rules_refused_over_http_and_json_rpc(self):
        line_a = self.schedule_a.line_ids
        self.authenticate("life_alice", "life_alice_pw")
        refused = self._post(
            f"/my/billing/{self.schedule_a.id}/change", line_id=line_a.id, quantity=11, confirm=1
        )
        self.assertIn("The quantity must be between 1 and 10.", refused.text)
        with self.assertRaises(JsonRpcException):
            self.make_jsonrpc_request(
                "/web/dataset/call_kw",
                {
                    "model": "crm.billing.schedule",
                    "method": "billing_portal_change_quantity",
                    "args": [[self.schedule_a.id], line_a.id, 0],
                    "kwargs": {},
                },
            )
        # nor the backend's own methods, nor writing the line
        for method, args in (
            ("_apply_billing_changes", ["2030-01-01", []]),
            ("action_billing_reactivate", []),
            ("write", [{"portal_quantity_max": 100}]),
        ):
            with self.assertRaises(JsonRpcException):
                self.make_jsonrpc_request(
                    "/web/dataset/call_kw",
                    {
                        "model": "crm.billing.schedule",
                        "method": method,
                        "args": [[self.schedule_a.id], *args],
                        "kwargs": {},
                    },
                )
        # Bob cannot touch Alice's schedule, over HTTP or the ORM
        self.authenticate("life_bob", "life_bob_pw")
        bob = self.url_open(
            f"/my/billing/{self.schedule_a.id}/change",
            data={
                "csrf_token": self._bob_csrf(),
                "line_id": line_a.id,
                "quantity": 3,
                "confirm": 1,
            },
        )
        self.assertNotIn(self.schedule_a.name, bob.text)
        with self.assertRaises(AccessError):
            self.schedule_a.with_user(self.user_b).billing_portal_change_quantity(line_a.id, 3)
        with self.assertRaises(AccessError):
            self.schedule_a.with_user(self.user_b).billing_portal_cancel(self.reason.id)
        # nor change another schedule's line through his own
        with self.assertRaisesRegex(UserError, "not part of"):
            self.schedule_b.with_user(self.user_b).billing_portal_change_quantity(line_a.id, 3)
        with self.assertRaisesRegex(UserError, "cannot be changed online"):
            self.schedule_b.portal_change_allowed = False
            self.schedule_b.with_user(self.user_b).billing_portal_change_quantity(
                self.schedule_b.line_ids.id, 3
            )
        line_a.invalidate_recordset()
        self.assertEqual(line_a.quantity, 2)
        self.assertFalse((self.schedule_a | self.schedule_b).change_ids)

    def _bob_csrf(self):
        page = self.url_open(f"/my/billing/{self.schedule_b.id}")
        marker = 'name="csrf_token" value="'
        start = page.text.index(marker) + len(marker)
        return page.text[start : page.text.index('"', start)]

    def test_cancel_at_period_end_and_reactivate(self):
        self.authenticate("life_alice", "life_alice_pw")
        unpaid = self.env.ref("crm_billing.close_reason_unpaid")
        refused = self._post(f"/my/billing/{self.schedule_a.id}/cancel", reason_id=unpaid.id)
        self.assertIn("Please choose why you cancel.", refused.text)
        self.assertFalse(self.schedule_a.close_reason_id)
        done = self._post(f"/my/billing/{self.schedule_a.id}/cancel", reason_id=self.reason.id)
        self.assertIn("Your subscription ends with the current period.", done.text)
        self.schedule_a.invalidate_recordset()
        end = self.today.replace(day=1) + relativedelta(months=1, days=-1)
        self.assertEqual(self.schedule_a.close_reason_id, self.reason)
        self.assertEqual(self.schedule_a.date_end, end)
        self.assertIn("Keep my subscription", done.text)
        back = self._post(f"/my/billing/{self.schedule_a.id}/reactivate")
        self.assertIn("Your subscription goes on.", back.text)
        self.schedule_a.invalidate_recordset()
        self.assertFalse(self.schedule_a.close_reason_id)
        self.assertFalse(self.schedule_a.date_end)
        authors = self.schedule_a.message_ids.filtered(
            lambda m: "closed the schedule" in m.body or "reactivated" in m.body
        ).author_id
        self.assertEqual(authors, self.contact_a)

    def _rpc(self, method, schedule, *args):
        return self.make_jsonrpc_request(
            "/web/dataset/call_kw",
            {
                "model": "crm.billing.schedule",
                "method": method,
                "args": [[schedule.id], *args],
                "kwargs": {},
            },
        )

    def _optional_product(self, **vals):
        return self._create_product(
            name="Backup add-on",
            lst_price=50.0,
            taxes_id=False,
            billing_portal_add=True,
            **vals,
        )

    def test_add_optional_product_previewed_then_confirmed(self):
        backup = self._optional_product(billing_portal_quantity_max=3)
        self._create_product(name="Not offered", lst_price=10.0, taxes_id=False)
        self.schedule_a.portal_add_allowed = True
        self.authenticate("life_alice", "life_alice_pw")
        page = self.url_open(f"/my/billing/{self.schedule_a.id}")
        self.assertIn("Add a product from today", page.text)
        self.assertIn(f'<option value="{backup.id}">', page.text)
        self.assertNotIn("Not offered", page.text)
        preview = self._post(
            f"/my/billing/{self.schedule_a.id}/add", product_id=backup.id, quantity=2
        )
        expected = self._expected_upgrade(1)  # 2 x 50.00 = one seat's worth
        self.assertIn("Invoiced now, prorated for the rest of the period", preview.text)
        self.assertIn(f"{expected:,.2f}", preview.text)
        self.assertEqual(len(self.schedule_a.line_ids), 1, "nothing changes before confirming")
        done = self._post(
            f"/my/billing/{self.schedule_a.id}/add", product_id=backup.id, quantity=2, confirm=1
        )
        self.assertIn("The product has been added to your subscription.", done.text)
        self.schedule_a.invalidate_recordset()
        added = self.schedule_a.line_ids.filtered(lambda line: line.product_id == backup)
        self.assertEqual((added.quantity, added.price_unit), (2.0, 50.0))
        change = self.schedule_a.change_ids
        self.assertEqual((change.change_type, change.source), ("new", "portal"))
        self.assertEqual((change.user_id, change.amount), (self.user_a, expected))
        note = self.schedule_a.message_ids.filtered(lambda m: "changed the schedule" in m.body)
        self.assertEqual(note.author_id, self.contact_a)
        self.assertIn("Alice Aldebaran", note.body)
        self.assertIn("Backup add-on", note.body)
        # on the schedule now: no longer offered, its quantity changes like any other
        page = self.url_open(f"/my/billing/{self.schedule_a.id}")
        self.assertNotIn(f'<option value="{backup.id}">', page.text)
        with self.assertRaisesRegex(UserError, "cannot be added"):
            self.schedule_a.with_user(self.user_a).billing_portal_add_product(backup.id, 1)

    @mute_logger("odoo.http")
    def test_product_rules_the_stricter_applies(self):
        backup = self._optional_product(billing_portal_quantity_max=3)
        plain = self._create_product(name="Plain product", lst_price=10.0, taxes_id=False)
        self.schedule_a.portal_add_allowed = True
        self.authenticate("life_alice", "life_alice_pw")
        # the schedule allows up to 10, the product up to 3
        refused = self._post(
            f"/my/billing/{self.schedule_a.id}/add", product_id=backup.id, quantity=4
        )
        self.assertIn("The quantity must be between 1 and 3.", refused.text)
        # over JSON-RPC: the same refusal (a UserError, its message checked through the ORM)
        with self.assertRaisesRegex(JsonRpcException, "UserError"):
            self._rpc("billing_portal_add_product", self.schedule_a, backup.id, 4)
        with self.assertRaisesRegex(UserError, "between 1 and 3"):
            self.schedule_a.with_user(self.user_a).billing_portal_add_product(backup.id, 4)
        with self.assertRaisesRegex(JsonRpcException, "UserError"):
            self._rpc("billing_portal_add_product", self.schedule_a, plain.id, 1)
        with self.assertRaisesRegex(UserError, "cannot be added"):
            self.schedule_a.with_user(self.user_a).billing_portal_add_product(plain.id, 1)
        # the seats' product says at most 5, the schedule 10
        self.product.billing_portal_quantity_max = 5
        line = self.schedule_a.line_ids
        refused = self._post(
            f"/my/billing/{self.schedule_a.id}/change", line_id=line.id, quantity=6, confirm=1
        )
        self.assertIn("The quantity must be between 1 and 5.", refused.text)
        # removing: the schedule and the product must both allow it
        with self.assertRaisesRegex(JsonRpcException, "UserError"):
            self._rpc("billing_portal_change_quantity", self.schedule_a, line.id, 0)
        with self.assertRaisesRegex(UserError, "cannot be removed online"):
            self.schedule_a.with_user(self.user_a).billing_portal_change_quantity(line.id, 0)
        self.schedule_a.portal_remove_allowed = True
        self.product.billing_portal_remove = False
        with self.assertRaisesRegex(UserError, "cannot be removed online"):
            self.schedule_a.with_user(self.user_a).billing_portal_change_quantity(line.id, 0)
        self.schedule_a.portal_add_allowed = False
        with self.assertRaisesRegex(UserError, "No product can be added"):
            self.schedule_a.with_user(self.user_a).billing_portal_add_product(backup.id, 1)
        # Bob adds nothing to Alice's schedule
        self.schedule_a.portal_add_allowed = True
        with self.assertRaises(AccessError):
            self.schedule_a.with_user(self.user_b).billing_portal_add_product(backup.id, 1)
        self.authenticate("life_bob", "life_bob_pw")
        with self.assertRaises(JsonRpcException):
            self._rpc("billing_portal_add_product", self.schedule_a, backup.id, 1)
        bob = self.url_open(
            f"/my/billing/{self.schedule_a.id}/add",
            data={
                "csrf_token": self._bob_csrf(),
                "product_id": backup.id,
                "quantity": 1,
                "confirm": 1,
            },
        )
        self.assertNotIn(self.schedule_a.name, bob.text)
        line.invalidate_recordset()
        self.assertEqual(self.schedule_a.line_ids, line)
        self.assertEqual(line.quantity, 2)
        self.assertFalse(self.schedule_a.change_ids)

    def test_remove_a_line_when_allowed(self):
        backup = self._optional_product()
        self.schedule_a.write({"portal_add_allowed": True, "portal_remove_allowed": True})
        self.schedule_a.with_user(self.user_a).billing_portal_add_product(backup.id, 1)
        added = self.schedule_a.line_ids.filtered(lambda line: line.product_id == backup)
        self.authenticate("life_alice", "life_alice_pw")
        preview = self._post(
            f"/my/billing/{self.schedule_a.id}/change", line_id=added.id, quantity=0
        )
        self.assertIn("Credited now, prorated for the rest of the period", preview.text)
        self._post(
            f"/my/billing/{self.schedule_a.id}/change", line_id=added.id, quantity=0, confirm=1
        )
        added.invalidate_recordset()
        self.assertEqual(added.quantity, 0)
        removal = self.schedule_a.change_ids.filtered(lambda c: c.change_type == "removal")
        self.assertEqual(removal.amount, -self._expected_upgrade(0.5), "what the addition billed")
        # offered again, it comes back on its own line
        self.schedule_a.with_user(self.user_a).billing_portal_add_product(backup.id, 2)
        added.invalidate_recordset()
        self.assertEqual(added.quantity, 2)
        self.assertEqual(len(self.schedule_a.line_ids), 2)

    @mute_logger("odoo.http")
    def test_invoice_contact_and_email(self):
        bob_email = self.contact_b.email
        self.authenticate("life_alice", "life_alice_pw")
        page = self.url_open(f"/my/billing/{self.schedule_a.id}")
        self.assertIn("Send the invoices to", page.text)
        self.assertNotIn("Bob Betelgeuse", page.text)
        refused = self._post(
            f"/my/billing/{self.schedule_a.id}/invoice_contact",
            contact_id=self.contact_a.id,
            email="not an email",
        )
        self.assertIn("not a valid email address", refused.text)
        refused = self._post(
            f"/my/billing/{self.schedule_a.id}/invoice_contact",
            contact_id=self.contact_b.id,
            email="mallory@b.example.com",
        )
        self.assertIn("This contact is not one of Aldebaran Ltd", refused.text)
        with self.assertRaisesRegex(JsonRpcException, "UserError"):
            self._rpc("billing_portal_set_invoice_contact", self.schedule_a, 0, "", "Nobody")
        with self.assertRaisesRegex(UserError, "needs a name and an email"):
            self.schedule_a.with_user(self.user_a).billing_portal_set_invoice_contact(
                contact_id=0, name="Nobody"
            )
        self.assertFalse(self.schedule_a.partner_invoice_id)
        self.assertEqual(self.contact_b.email, bob_email)
        # a new contact, under the customer
        done = self._post(
            f"/my/billing/{self.schedule_a.id}/invoice_contact",
            contact_id=0,
            name="Accounts Payable",
            email="payables@a.example.com",
        )
        self.assertIn("Your invoices go to the new contact from now on.", done.text)
        self.schedule_a.invalidate_recordset()
        contact = self.schedule_a.partner_invoice_id
        self.assertEqual(
            (contact.name, contact.email), ("Accounts Payable", "payables@a.example.com")
        )
        self.assertEqual((contact.parent_id, contact.type), (self.company_a, "invoice"))
        # one of the customer's contacts, with a new email
        self._post(
            f"/my/billing/{self.schedule_a.id}/invoice_contact",
            contact_id=self.contact_a.id,
            email="alice.billing@a.example.com",
        )
        self.schedule_a.invalidate_recordset()
        self.assertEqual(self.schedule_a.partner_invoice_id, self.contact_a)
        self.assertEqual(self.contact_a.email, "alice.billing@a.example.com")
        notes = self.schedule_a.message_ids.filtered(lambda m: "sends the invoices to" in m.body)
        self.assertEqual(len(notes), 2)
        self.assertEqual(notes.author_id, self.contact_a)
        self.assertIn("alice.billing@a.example.com", notes[0].body)
        # the invoices go to that contact from now on
        self.schedule_a.with_user(self.user_a).billing_portal_change_quantity(
            self.schedule_a.line_ids.id, 3
        )
        self.assertEqual(self.schedule_a.change_ids.move_id.partner_id, self.contact_a)
        # Bob changes nothing of Alice's
        self.authenticate("life_bob", "life_bob_pw")
        with self.assertRaises(JsonRpcException):
            self._rpc("billing_portal_set_invoice_contact", self.schedule_a, self.contact_b.id)
        with self.assertRaises(AccessError):
            self.schedule_a.with_user(self.user_b).billing_portal_set_invoice_contact(
                contact_id=0, name="Mallory", email="mallory@b.example.com"
            )
        self.assertEqual(self.schedule_a.partner_invoice_id, self.contact_a)
        self.assertFalse(self.env["res.partner"].search([("name", "=", "Mallory")]))

    def test_pay_all_overdue_invoices_at_once(self):
        overdue = self.init_invoice(
            "out_invoice",
            partner=self.contact_a,
            invoice_date=self.today - relativedelta(days=40),
            amounts=[120.0, 80.0],
        )
        overdue.invoice_date_due = self.today - relativedelta(days=10)
        overdue.action_post()
        self.authenticate("life_alice", "life_alice_pw")
        page = self.url_open("/my/billing")
        self.assertIn("Overdue invoices: <strong>1</strong>", page.text)
        self.assertIn('href="/my/invoices/overdue"', page.text)
        pay = self.url_open("/my/invoices/overdue")
        self.assertEqual(pay.status_code, 200)
        self.assertIn(overdue.name, pay.text)
        self.assertIn(f"{overdue.amount_total:,.2f}", pay.text)
        self.authenticate("life_bob", "life_bob_pw")
        self.assertNotIn("Pay overdue", self.url_open("/my/billing").text)

    def test_tours_two_customers(self):
        for user, schedule in ((self.user_a, self.schedule_a), (self.user_b, self.schedule_b)):
            self.start_tour(
                f"/my/billing/{schedule.id}",
                "crm_billing_portal_self_service_tour",
                login=user.login,
                timeout=300,
            )
            schedule.invalidate_recordset()
            self.assertEqual(schedule.line_ids.quantity, 3)
            self.assertEqual(schedule.change_ids.user_id, user)
            self.assertEqual(schedule.close_reason_id, self.reason)
            self.assertEqual(schedule.state, "running")
        self.assertEqual(len(self.schedule_a.change_ids), 1, "Bob's tour did not touch Alice's")
