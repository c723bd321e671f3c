# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import Command
from odoo.tests import HttpCase, new_test_user, tagged

from odoo.addons.account.tests.common import AccountTestInvoicingCommon


@tagged("post_install", "-at_install")
class TestTourSales(AccountTestInvoicingCommon, HttpCase):
    """A sales rep, in a real browser, turns an opportunity into a deposit invoice."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        company = cls.env.company
        cls.rep = new_test_user(
            cls.env,
            login="crm_billing_tour_rep",
            password="crm_billing_tour_rep",
            name="Tour Rep",
            groups="sales_team.group_sale_salesman",
            company_id=company.id,
            company_ids=[Command.set(company.ids)],
        )
        # 869.57 + 15% tax = 1000.01: a total that does not split evenly
        cls.product = cls._create_product(
            name="Tour Consulting",
            type="service",
            invoice_policy="order",
            lst_price=869.57,
            taxes_id=[Command.set(cls.tax_sale_a.ids)],
        )
        cls.customer = cls.env["res.partner"].create({"name": "Tour Customer", "is_company": True})
        cls.lead = (
            cls.env["crm.lead"]
            .with_user(cls.rep)
            .create(
                {
                    "name": "Instalment deal",
                    "type": "opportunity",
                    "partner_id": cls.customer.id,
                    "user_id": cls.rep.id,
                    "team_id": False,
                }
            )
        )

    def test_instalment_tour(self):
        self.start_tour(
            "/odoo/crm", "crm_billing_instalment_tour", login=self.rep.login, timeout=600
        )
        order = self.env["sale.order"].search([("opportunity_id", "=", self.lead.id)])
        self.assertEqual(len(order), 1)
        self.assertEqual(order.state, "sale")
        self.assertEqual(order.amount_total, 1000.01)
        plan = order.billing_schedule_ids
        self.assertEqual(plan.schedule_type, "instalment")
        self.assertEqual(plan.line_ids.mapped("amount"), [300.0, 700.01])
        deposit = plan.invoice_ids
        self.assertEqual(len(deposit), 1)
        # a rep without Invoicing rights: a draft, for the accountant to post
        self.assertEqual(deposit.state, "draft")
        self.assertEqual(deposit.currency_id.compare_amounts(deposit.amount_total, 300.0), 0)
        self.assertEqual(deposit.currency_id.compare_amounts(deposit.amount_tax, 39.13), 0)
        self.assertEqual(order.invoice_status, "to invoice")
        # once the accountant posts it, the order counts the deposit as invoiced
        deposit.action_post()
        order.invalidate_recordset()
        self.assertEqual(order.currency_id.compare_amounts(order.amount_invoiced, 300.0), 0)
