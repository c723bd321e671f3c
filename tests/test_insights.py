# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import date

from freezegun import freeze_time

from odoo import Command
from odoo.tests import new_test_user, tagged

from odoo.addons.account.tests.common import AccountTestInvoicingCommon

from .common import BillingInvoiceHelpers


def d(text):
    return date.fromisoformat(text)


@tagged("post_install", "-at_install")
@freeze_time("2026-06-15")
class TestBillingInsights(BillingInvoiceHelpers, AccountTestInvoicingCommon):
    """Every figure of the revenue insights checked to the cent on a known data set,
    on 15 June 2026."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.manager = new_test_user(
            cls.env,
            login="billing_boss",
            groups="crm_billing.group_billing_manager",
            company_id=cls.env.company.id,
            company_ids=cls.env.company.ids,
        )
        cls.other_rep = new_test_user(
            cls.env, login="other_rep", groups="sales_team.group_sale_salesman"
        )
        cls.currency = cls.env.company.currency_id
        Partner = cls.env["res.partner"]
        cls.c1, cls.c2, cls.c3, cls.c4 = Partner.create(
            [{"name": f"Customer {n}", "is_company": True} for n in range(1, 5)]
        )
        cls.c1_contact = Partner.create({"name": "Contact of 1", "parent_id": cls.c1.id})
        cls.hosting = cls._create_product(name="Hosting", lst_price=100.0, taxes_id=False)
        cls.support = cls._create_product(name="Support", lst_price=90.0, taxes_id=False)
        # C1: 100 a month from January, plus 50 from 10 March to 20 May
        cls.s1 = cls._schedule(cls.c1_contact, "2026-01-01", [(cls.hosting, 1, 100.0, 0)])
        cls.s2 = cls._schedule(
            cls.c1, "2026-03-10", [(cls.support, 1, 50.0, 0)], date_end="2026-05-20"
        )
        # C2: 1200 a year from February (100 a month) with another salesperson,
        # and 10 every two weeks from May (10 * 365 / 84 / 2 = 21.73 a month)
        cls.s3 = cls._schedule(
            cls.c2,
            "2026-02-01",
            [(cls.hosting, 12, 100.0, 0)],
            rule_type="yearly",
            user_id=cls.other_rep.id,
        )
        cls.s6 = cls._schedule(
            cls.c2, "2026-05-01", [(cls.support, 1, 10.0, 0)], rule_type="weekly", interval=2
        )
        # C3: 300 + 81 a quarter from 15 January (127 a month), cancelled after its
        # first quarter was invoiced (to 14 April); back with 40 a month in June
        cls.s4 = cls._schedule(
            cls.c3,
            "2026-01-15",
            [(cls.hosting, 3, 100.0, 0), (cls.support, 1, 90.0, 10)],
            rule_type="quarterly",
        )
        cls.s4._generate_invoices(d("2026-01-15"), raise_errors=True)
        cls.s4.action_cancel()
        cls.s8 = cls._schedule(cls.c3, "2026-06-01", [(cls.support, 1, 40.0, 0)])
        # C4: 200 a month in April and May only
        cls.s5 = cls._schedule(
            cls.c4, "2026-04-01", [(cls.hosting, 2, 100.0, 0)], date_end="2026-05-31"
        )
        # neither a draft nor an instalment plan is recurring revenue
        cls.draft = cls._schedule(cls.c4, "2026-01-01", [(cls.hosting, 1, 999.0, 0)], start=False)
        cls.partners = cls.c1 | cls.c2 | cls.c3 | cls.c4

    @classmethod
    def _schedule(cls, partner, date_start, lines, start=True, **vals):
        schedule = cls.env["crm.billing.schedule"].create(
            {
                "partner_id": partner.id,
                "rule_type": "monthly",
                "interval": 1,
                "date_start": date_start,
                "line_ids": [
                    Command.create(
                        {
                            "product_id": product.id,
                            "name": product.name,
                            "quantity": qty,
                            "price_unit": price,
                            "discount": discount,
                            "tax_ids": [Command.clear()],
                        }
                    )
                    for product, qty, price, discount in lines
                ],
                **vals,
            }
        )
        if start:
            schedule.action_start()
        return schedule

    # --- MRR / ARR ---

    EXPECTED_MRR = {
        # month: {customer index: MRR}
        "2026-01-01": {1: 100.0, 3: 127.0},
        "2026-02-01": {1: 100.0, 2: 100.0, 3: 127.0},
        "2026-03-01": {1: 150.0, 2: 100.0, 3: 127.0},
        "2026-04-01": {1: 150.0, 2: 100.0, 4: 200.0},
        "2026-05-01": {1: 100.0, 2: 121.73, 4: 200.0},
        "2026-06-01": {1: 100.0, 2: 121.73, 3: 40.0},
    }

    def _customers(self):
        return {1: self.c1, 2: self.c2, 3: self.c3, 4: self.c4}

    def test_mrr_by_month_and_customer(self):
        Report = self.env["crm.billing.mrr.report"].with_user(self.manager)
        groups = Report._read_group(
            [("partner_id", "in", self.partners.ids)],
            ["month:month", "partner_id"],
            ["mrr:sum", "arr:sum"],
        )
        got = {(str(month), partner): (mrr, arr) for month, partner, mrr, arr in groups}
        expected = {
            (month, self._customers()[n]): value
            for month, by_customer in self.EXPECTED_MRR.items()
            for n, value in by_customer.items()
        }
        self.assertEqual(set(got), set(expected))
        for key, mrr in expected.items():
            self.assertAlmostEqual(got[key][0], mrr, places=2, msg=key)
            self.assertAlmostEqual(got[key][1], 12 * mrr, places=2, msg=key)
        by_month = dict(
            Report._read_group(
                [("partner_id", "in", self.partners.ids)], ["month:month"], ["mrr:sum"]
            )
        )
        totals = {str(k): v for k, v in by_month.items()}
        self.assertEqual(
            totals,
            {
                "2026-01-01": 227.0,
                "2026-02-01": 327.0,
                "2026-03-01": 377.0,
                "2026-04-01": 450.0,
                "2026-05-01": 421.73,
                "2026-06-01": 261.73,
            },
        )
        # nothing after today, nothing from the draft
        self.assertFalse(Report.search([("month", ">", "2026-06-01")]))
        self.assertFalse(Report.search([("schedule_id", "=", self.draft.id)]))

    def test_mrr_by_salesperson_and_product(self):
        Report = self.env["crm.billing.mrr.report"].with_user(self.manager)
        domain = [("partner_id", "in", self.partners.ids), ("month", "=", "2026-06-01")]
        by_user = dict(Report._read_group(domain, ["user_id"], ["mrr:sum"]))
        self.assertAlmostEqual(by_user[self.other_rep], 100.0, places=2)
        self.assertAlmostEqual(by_user[self.env.user], 161.73, places=2)
        by_product = dict(Report._read_group(domain, ["product_id"], ["mrr:sum"]))
        self.assertAlmostEqual(by_product[self.hosting], 200.0, places=2)
        self.assertAlmostEqual(by_product[self.support], 61.73, places=2)
        # the current month is the stored MRR of the running schedules
        running = self.s1 | self.s3 | self.s6 | self.s8
        self.assertAlmostEqual(sum(running.mapped("mrr")), 261.73, places=2)
        march = Report._read_group(
            [("schedule_id", "=", self.s4.id), ("month", "=", "2026-03-01")],
            ["line_id"],
            ["mrr:sum"],
        )
        self.assertEqual(sorted(round(mrr, 2) for __, mrr in march), [27.0, 100.0])

    # --- Movements ---

    EXPECTED_MOVES = {
        # month: (mrr, new, expansion, contraction, churn)
        "2026-01-01": (227.0, 227.0, 0.0, 0.0, 0.0),
        "2026-02-01": (327.0, 100.0, 0.0, 0.0, 0.0),
        "2026-03-01": (377.0, 0.0, 50.0, 0.0, 0.0),
        "2026-04-01": (450.0, 200.0, 0.0, 0.0, 127.0),
        "2026-05-01": (421.73, 0.0, 21.73, 50.0, 0.0),
        "2026-06-01": (261.73, 40.0, 0.0, 0.0, 200.0),
    }

    def test_new_expansion_churn(self):
        Report = self.env["crm.billing.mrr.report"].with_user(self.manager)
        moves = Report._get_mrr_movements(
            d("2026-01-01"), d("2026-06-30"), [("partner_id", "in", self.partners.ids)]
        )
        self.assertEqual([str(m["month"]) for m in moves], list(self.EXPECTED_MOVES))
        for move in moves:
            mrr, new, expansion, contraction, churn = self.EXPECTED_MOVES[str(move["month"])]
            self.assertEqual(
                (move["mrr"], move["new"], move["expansion"], move["contraction"], move["churn"]),
                (mrr, new, expansion, contraction, churn),
                move["month"],
            )
            self.assertEqual(move["arr"], self.currency.round(12 * mrr))
            self.assertEqual(
                move["net"], self.currency.round(new + expansion - contraction - churn)
            )
        april = moves[3]
        self.assertEqual(
            (april["customers"], april["new_customers"], april["churned_customers"]), (3, 1, 1)
        )

    def test_movement_report_matches(self):
        """The movement analysis (pivot/graph) gives the same figures per month."""
        Movement = self.env["crm.billing.mrr.movement.report"].with_user(self.manager)
        groups = Movement._read_group(
            [("partner_id", "in", self.partners.ids)],
            ["month:month"],
            [
                "mrr:sum",
                "new_mrr:sum",
                "expansion_mrr:sum",
                "contraction_mrr:sum",
                "churned_mrr:sum",
                "net_new_mrr:sum",
            ],
        )
        got = {str(month): tuple(round(v, 2) for v in values[:5]) for month, *values in groups}
        self.assertEqual(got, self.EXPECTED_MOVES)
        churned = Movement.search(
            [("partner_id", "in", self.partners.ids), ("is_churned", "=", True)]
        )
        self.assertEqual(
            {(str(m.month), m.partner_id) for m in churned},
            {("2026-04-01", self.c3), ("2026-06-01", self.c4)},
        )

    # --- Ageing ---

    @classmethod
    def _invoice(cls, partner, amount, invoice_date, due, move_type="out_invoice"):
        return cls._customer_invoice(
            amount, partner=partner, invoice_date=invoice_date, due=due, move_type=move_type
        )

    def test_overdue_ageing(self):
        Partner = self.env["res.partner"]
        debtor, other = Partner.create([{"name": "Slow Payer"}, {"name": "Credit Holder"}])
        for amount, due in (
            (100, "2026-06-20"),
            (110, "2026-06-15"),  # not due
            (120, "2026-06-14"),
            (130, "2026-05-16"),  # 1 and 30 days
            (140, "2026-05-15"),
            (150, "2026-04-16"),  # 31 and 60 days
            (160, "2026-04-15"),
            (170, "2026-03-17"),  # 61 and 90 days
            (180, "2026-03-16"),  # 91 days
        ):
            invoice = self._invoice(debtor, amount, "2026-01-01", due)
            self.assertEqual(
                str(invoice.line_ids.filtered("date_maturity").mapped("date_maturity")[0]), due
            )
        partly_paid = self._invoice(debtor, 200, "2025-12-01", "2026-01-01")
        self._register_payment(
            partly_paid, amount=50, payment_date="2026-02-01", payment_difference_handling="open"
        )
        paid = self._invoice(debtor, 999, "2025-12-01", "2026-01-01")
        self._register_payment(paid, payment_date="2026-02-01")
        self._invoice(other, 30, "2026-06-01", "2026-06-30", move_type="out_refund")

        Ageing = self.env["crm.billing.ageing.report"].with_user(self.manager)
        measures = [
            "amount_current:sum",
            "amount_1_30:sum",
            "amount_31_60:sum",
            "amount_61_90:sum",
            "amount_90_plus:sum",
            "amount_residual:sum",
            "amount_overdue:sum",
        ]
        rows = {
            partner: tuple(round(v, 2) for v in values)
            for partner, *values in Ageing._read_group(
                [("partner_id", "in", (debtor | other).ids)], ["partner_id"], measures
            )
        }
        self.assertEqual(rows[debtor], (210.0, 250.0, 290.0, 330.0, 330.0, 1410.0, 1200.0))
        # a credit note is no debt that ages: the ageing lists customer invoices only
        self.assertNotIn(other, rows)
        by_bucket = dict(
            Ageing._read_group(
                [("partner_id", "=", debtor.id)], ["bucket"], ["amount_residual:sum"]
            )
        )
        self.assertEqual(
            by_bucket,
            {"current": 210.0, "1_30": 250.0, "31_60": 290.0, "61_90": 330.0, "90_plus": 330.0},
        )
        # the customer's overdue amount agrees
        self.assertAlmostEqual(debtor.billing_overdue_amount, 1200.0, places=2)

    # --- Payment behaviour ---

    def test_payment_behaviour(self):
        Partner = self.env["res.partner"]
        payer = Partner.create({"name": "Mixed Payer", "is_company": True})
        contact = Partner.create({"name": "Mixed Payer's accountant", "parent_id": payer.id})
        late = Partner.create({"name": "Always Late"})
        early = self._invoice(payer, 100, "2026-02-10", "2026-03-10")
        self._register_payment(early, payment_date="2026-03-05")
        ten_days = self._invoice(contact, 200, "2026-03-01", "2026-03-31")
        self._register_payment(ten_days, payment_date="2026-04-10")
        in_two_parts = self._invoice(payer, 300, "2026-04-01", "2026-04-30")
        self._register_payment(
            in_two_parts, amount=100, payment_date="2026-05-05", payment_difference_handling="open"
        )
        self._register_payment(in_two_parts, payment_date="2026-05-20")
        on_the_day = self._invoice(payer, 400, "2026-05-01", "2026-05-31")
        self._register_payment(on_the_day, payment_date="2026-05-31")
        unpaid = self._invoice(payer, 500, "2026-05-01", "2026-05-15")
        partly = self._invoice(payer, 600, "2026-05-01", "2026-05-15")
        self._register_payment(
            partly, amount=10, payment_date="2026-06-01", payment_difference_handling="open"
        )
        fifteen = self._invoice(late, 700, "2026-01-01", "2026-02-01")
        self._register_payment(fifteen, payment_date="2026-02-16")

        Report = self.env["crm.billing.payment.report"].with_user(self.manager)
        rows = {r.move_id: r for r in Report.search([("partner_id", "in", (payer | late).ids)])}
        self.assertEqual(set(rows), set(early | ten_days | in_two_parts | on_the_day | fifteen))
        self.assertNotIn(unpaid, rows)
        self.assertNotIn(partly, rows)
        self.assertEqual(
            {move: (str(r.date_paid), r.days_late, r.on_time_rate) for move, r in rows.items()},
            {
                early: ("2026-03-05", 0.0, 100.0),
                ten_days: ("2026-04-10", 10.0, 0.0),
                in_two_parts: ("2026-05-20", 20.0, 0.0),
                on_the_day: ("2026-05-31", 0.0, 100.0),
                fifteen: ("2026-02-16", 15.0, 0.0),
            },
        )
        groups = {
            partner: (count, late_avg, rate)
            for partner, count, late_avg, rate in Report._read_group(
                [("partner_id", "in", (payer | late).ids)],
                ["partner_id"],
                ["__count", "days_late:avg", "on_time_rate:avg"],
            )
        }
        self.assertEqual(groups[payer], (4, 7.5, 50.0))
        self.assertEqual(groups[late], (1, 15.0, 0.0))
        # on the customer, and on each of its contacts
        for partner in (payer, contact):
            partner = partner.with_user(self.manager)
            self.assertEqual(partner.billing_paid_invoice_count, 4)
            self.assertAlmostEqual(partner.billing_days_late, 7.5)
            self.assertAlmostEqual(partner.billing_on_time_rate, 50.0)
        self.assertAlmostEqual(late.billing_days_late, 15.0)
        self.assertAlmostEqual(late.billing_on_time_rate, 0.0)

    # --- Access ---

    def test_reports_for_managers_only(self):
        user = new_test_user(
            self.env, login="billing_clerk", groups="crm_billing.group_billing_user"
        )
        for model in (
            "crm.billing.mrr.report",
            "crm.billing.mrr.movement.report",
            "crm.billing.ageing.report",
            "crm.billing.payment.report",
        ):
            self.assertFalse(self.env[model].with_user(user).has_access("read"), model)
            self.assertTrue(self.env[model].with_user(self.manager).has_access("read"), model)

    # --- Ending soon ---

    def test_schedules_ending_soon_action(self):
        action = self.env.ref("crm_billing.crm_billing_schedule_ending_action")
        self.assertEqual(action.res_model, "crm.billing.schedule")
        self.assertIn("date_end", action.domain)
        # the manager's and the Invoicing users' menus reach the reports; a billing
        # user's do not
        menu = self.env.ref("crm_billing.crm_billing_reporting_menu")
        self.assertEqual(
            menu.group_ids,
            self.env.ref("crm_billing.group_billing_manager")
            | self.env.ref("account.group_account_invoice"),
        )
