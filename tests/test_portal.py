# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from dateutil.relativedelta import relativedelta

from odoo import Command, fields
from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from odoo.addons.account.tests.common import AccountTestInvoicingHttpCommon


@tagged("post_install", "-at_install")
class TestBillingPortal(AccountTestInvoicingHttpCommon):
    """Two portal customers through the running web server: each sees its own
    commercial entity's schedules, invoices and receipts, and nothing of the other;
    a visitor holding a schedule's access token sees that schedule only."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.today = fields.Date.context_today(cls.env.user)
        Partner = cls.env["res.partner"]
        cls.company_a = Partner.create(
            {"name": "Aldebaran Ltd", "is_company": True, "street": "1 Main Street", "city": "Cork"}
        )
        cls.company_b = Partner.create(
            {"name": "Betelgeuse GmbH", "is_company": True, "street": "2 Ring", "city": "Bonn"}
        )
        # the portal user of A is a contact of A: it sees its company's schedules
        cls.contact_a = Partner.create(
            {
                "name": "Alice Aldebaran",
                "parent_id": cls.company_a.id,
                "email": "alice@a.example.com",
            }
        )
        cls.user_a = new_test_user(
            cls.env,
            login="portal_alice",
            password="portal_alice_pw",
            groups="base.group_portal",
            partner_id=cls.contact_a.id,
        )
        cls.user_b = new_test_user(
            cls.env,
            login="portal_bob",
            password="portal_bob_pw",
            groups="base.group_portal",
            name="Bob Betelgeuse",
            email="bob@b.example.com",
        )
        cls.user_b.partner_id.parent_id = cls.company_b
        cls.product = cls._create_product(name="Hosting plan", lst_price=120.0, taxes_id=False)
        start = cls.today + relativedelta(months=-2)
        cls.schedule_a = cls._create_portal_schedule(cls.company_a, start, 120.0)
        cls.schedule_b = cls._create_portal_schedule(cls.company_b, start, 75.0)
        cls.draft_a = cls._create_portal_schedule(cls.company_a, start, 10.0, start=False)
        schedules = cls.schedule_a | cls.schedule_b
        schedules._generate_invoices(cls.today, raise_errors=True)
        cls.invoice_a = cls.schedule_a.invoice_ids.sorted("invoice_date")[0]
        cls.payment_a = cls._register_payment(cls.invoice_a)
        cls.invoice_b = cls.schedule_b.invoice_ids.sorted("invoice_date")[0]
        cls.payment_b = cls._register_payment(cls.invoice_b)

    @classmethod
    def _create_portal_schedule(cls, partner, date_start, price, start=True):
        schedule = cls.env["crm.billing.schedule"].create(
            {
                "partner_id": partner.id,
                "rule_type": "monthly",
                "interval": 1,
                "date_start": date_start,
                "auto_post": True,
                "line_ids": [
                    Command.create(
                        {
                            "product_id": cls.product.id,
                            "name": f"Hosting for {partner.name}",
                            "quantity": 1,
                            "price_unit": price,
                        }
                    )
                ],
            }
        )
        if start:
            schedule.action_start()
        return schedule

    # --- helpers ---

    def _get(self, url, **kw):
        return self.url_open(url, **kw)

    def _assert_shows_a_not_b(self, text):
        self.assertIn(self.schedule_a.name, text)
        self.assertNotIn(self.schedule_b.name, text)
        self.assertNotIn("Betelgeuse", text)

    # --- record rules ---

    def test_record_rules(self):
        """The ORM itself gives a portal user its entity's schedules, lines and periods only."""
        for user, own, other in (
            (self.user_a, self.schedule_a, self.schedule_b),
            (self.user_b, self.schedule_b, self.schedule_a),
        ):
            env = self.env(user=user)
            Schedule = env["crm.billing.schedule"]
            self.assertIn(own, Schedule.search([]))
            self.assertNotIn(other, Schedule.search([]))
            self.assertEqual(
                env["crm.billing.schedule.line"].search([]).schedule_id,
                Schedule.search([]),
            )
            self.assertEqual(env["crm.billing.period"].search([]).schedule_id, own)
            with self.assertRaises(AccessError):
                other.with_user(user).check_access("read")
            with self.assertRaises(AccessError):
                other.line_ids.with_user(user).check_access("read")

    # --- home ---

    def test_home_entry_and_counter(self):
        self.authenticate("portal_alice", "portal_alice_pw")
        home = self._get("/my")
        self.assertEqual(home.status_code, 200)
        self.assertIn('href="/my/billing"', home.text)
        self.assertIn("billing_schedule_count", home.text)
        counters = self.make_jsonrpc_request(
            "/my/counters", {"counters": ["billing_schedule_count"]}
        )
        # the started schedule only: a draft is the seller's work in progress
        self.assertEqual(counters["billing_schedule_count"], 1)
        self.authenticate("portal_bob", "portal_bob_pw")
        counters = self.make_jsonrpc_request(
            "/my/counters", {"counters": ["billing_schedule_count"]}
        )
        self.assertEqual(counters["billing_schedule_count"], 1)

    # --- list ---

    def test_list_own_schedules_only(self):
        self.authenticate("portal_alice", "portal_alice_pw")
        response = self._get("/my/billing")
        self.assertEqual(response.status_code, 200)
        self._assert_shows_a_not_b(response.text)
        self.assertIn("<title>Billing Schedules</title>", response.text)
        self.assertNotIn(self.draft_a.name, response.text)
        self.assertIn(self.schedule_a.access_url, response.text)
        # next invoice date and amount per period
        self.assertTrue(self.schedule_a.next_invoice_date)
        self.assertIn("120.00", response.text)
        for sortby in ("next", "date", "name"):
            for filterby in ("all", "running", "ended"):
                response = self._get(f"/my/billing?sortby={sortby}&filterby={filterby}")
                self.assertEqual(response.status_code, 200)
                self.assertNotIn(self.schedule_b.name, response.text)

        self.authenticate("portal_bob", "portal_bob_pw")
        text = self._get("/my/billing").text
        self.assertIn(self.schedule_b.name, text)
        self.assertNotIn(self.schedule_a.name, text)
        self.assertNotIn("Aldebaran", text)

    def test_list_needs_login(self):
        self.authenticate(None, None)
        response = self._get("/my/billing", allow_redirects=False)
        self.assertIn(response.status_code, (302, 303))
        self.assertIn("/web/login", response.headers["Location"])

    # --- detail ---

    def test_detail_own_schedule(self):
        self.authenticate("portal_alice", "portal_alice_pw")
        response = self._get(self.schedule_a.access_url)
        self.assertEqual(response.status_code, 200)
        text = response.text
        self.assertIn(
            f"<title>{self.schedule_a.name} - {self.schedule_a.recurrence_label}</title>", text
        )
        self._assert_shows_a_not_b(text)
        periods = self.schedule_a.period_ids
        self.assertEqual(len(periods), 3)  # two months back, last month, this month
        lang = self.env["res.lang"]._get_data(code="en_US")
        for period in periods:
            self.assertIn(period.date_start.strftime(lang.date_format), text)
            self.assertIn(period.date_end.strftime(lang.date_format), text)
        for invoice in self.schedule_a.invoice_ids:
            self.assertIn(invoice.name, text)
            self.assertIn(f"/my/invoices/{invoice.id}?access_token=", text)
            self.assertIn("report_type=pdf&amp;download=true", text)
        # unpaid invoices can be paid, the paid one shows its payment
        self.assertIn("Pay Now", text)
        self.assertIn(self.payment_a.name, text)
        self.assertNotIn(self.payment_b.name, text)
        self.assertIn("Hosting for Aldebaran Ltd", text)
        self.assertNotIn(self.draft_a.name, text)
        # the invoice link opens Odoo's own invoice page, with its download
        invoice_page = self._get(self.invoice_a.get_portal_url())
        self.assertEqual(invoice_page.status_code, 200)
        self.assertIn(self.invoice_a.name, invoice_page.text)

    @mute_logger("odoo.http")
    def test_detail_other_customer_refused(self):
        for login, other in (
            ("portal_alice", self.schedule_b),
            ("portal_bob", self.schedule_a),
        ):
            self.authenticate(login, f"{login}_pw")
            response = self._get(f"/my/billing/{other.id}", allow_redirects=False)
            self.assertIn(response.status_code, (302, 303))
            self.assertTrue(response.headers["Location"].endswith("/my"))
            self.assertNotIn(other.name, response.text)
            followed = self._get(f"/my/billing/{other.id}")
            self.assertNotIn(other.name, followed.text)
            # a guessed id of a schedule that does not exist is turned away the same way
            missing = self._get("/my/billing/999999999", allow_redirects=False)
            self.assertIn(missing.status_code, (302, 303))
            # a wrong token does not help
            wrong = self._get(
                f"/my/billing/{other.id}?access_token=not-the-token", allow_redirects=False
            )
            self.assertIn(wrong.status_code, (302, 303))
            self.assertNotIn(other.name, wrong.text)

    # --- access token ---

    def test_access_by_token(self):
        self.authenticate(None, None)
        url = self.schedule_a.get_portal_url()
        self.assertIn("access_token=", url)
        response = self._get(url)
        self.assertEqual(response.status_code, 200)
        self.assertIn(self.schedule_a.name, response.text)
        self.assertIn(self.invoice_a.name, response.text)
        self.assertIn(self.payment_a.name, response.text)
        self.assertNotIn(self.schedule_b.name, response.text)
        # the token of A does not open B
        token_a = self.schedule_a.access_token
        response = self._get(f"/my/billing/{self.schedule_b.id}?access_token={token_a}")
        self.assertNotIn(self.schedule_b.name, response.text)
        # no token: the visitor is sent to log in
        response = self._get(f"/my/billing/{self.schedule_a.id}", allow_redirects=False)
        self.assertIn(response.status_code, (302, 303))
        self.assertNotIn(self.schedule_a.name, response.text)
        # the invoice links of the page carry the invoice's own token and open
        response = self._get(self.invoice_a.get_portal_url())
        self.assertEqual(response.status_code, 200)

    # --- receipts ---

    @mute_logger("odoo.http")
    def test_receipt_download_checks_access(self):
        report = self.env.ref("account.action_report_payment_receipt", raise_if_not_found=False)
        own_url = f"/my/billing/{self.schedule_a.id}/receipt/{self.payment_a.id}"
        self.authenticate("portal_alice", "portal_alice_pw")
        page = self._get(self.schedule_a.access_url).text
        if report:
            self.assertIn(own_url, page)
            response = self._get(own_url)
            self.assertEqual(response.status_code, 200)
            self.assertEqual(response.headers["Content-Type"], "application/pdf")
        else:
            self.assertNotIn(own_url, page)
            self.assertEqual(self._get(own_url).status_code, 404)
        # B's payment through A's schedule, and B's schedule, are refused
        self.assertEqual(
            self._get(f"/my/billing/{self.schedule_a.id}/receipt/{self.payment_b.id}").status_code,
            404,
        )
        response = self._get(
            f"/my/billing/{self.schedule_b.id}/receipt/{self.payment_b.id}", allow_redirects=False
        )
        self.assertIn(response.status_code, (302, 303))
        # a visitor needs the schedule's token
        self.authenticate(None, None)
        response = self._get(own_url, allow_redirects=False)
        self.assertIn(response.status_code, (302, 303))
        if report:
            response = self._get(f"{own_url}?access_token={self.schedule_a._portal_ensure_token()}")
            self.assertEqual(response.status_code, 200)
