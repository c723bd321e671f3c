# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import date

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import UserError, ValidationError
from odoo.tests import new_test_user, tagged

from odoo.addons.account.tests.common import AccountTestInvoicingCommon


class SalesFlowCommon(AccountTestInvoicingCommon):
    """A confirmed order of 1000.01 taxes included, which does not split evenly:
    690.00 of a 15%-taxed service and 310.01 of an untaxed one."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        company = cls.env.company
        cls.rep = new_test_user(
            cls.env,
            login="crm_billing_rep",
            name="Sales Rep",
            groups="sales_team.group_sale_salesman",
            company_id=company.id,
            company_ids=[Command.set(company.ids)],
        )
        cls.tax_15 = cls.tax_sale_a
        cls.service_taxed = cls._create_product(
            name="Consulting",
            type="service",
            invoice_policy="order",
            lst_price=600.0,
            taxes_id=[Command.set(cls.tax_15.ids)],
        )
        cls.service_untaxed = cls._create_product(
            name="Training",
            type="service",
            invoice_policy="order",
            lst_price=310.01,
            taxes_id=[Command.clear()],
        )
        cls.subscription = cls._create_product(
            name="Hosting",
            type="service",
            invoice_policy="order",
            lst_price=1200.0,
            taxes_id=[Command.clear()],
            billing_rule_type="yearly",
            billing_interval=1,
        )
        cls.customer = cls.env["res.partner"].create({"name": "Customer Ltd", "is_company": True})
        cls.Schedule = cls.env["crm.billing.schedule"]
        cls.Wizard = cls.env["crm.billing.schedule.wizard"]

    def _order(self, lines=None, confirm=True):
        lines = lines or [(self.service_taxed, 1.0), (self.service_untaxed, 1.0)]
        order = (
            self.env["sale.order"]
            .with_user(self.rep)
            .create(
                {
                    "partner_id": self.customer.id,
                    "order_line": [
                        Command.create({"product_id": product.id, "product_uom_qty": qty})
                        for product, qty in lines
                    ],
                }
            )
        )
        if confirm:
            order.action_confirm()
        return order

    def _plan(self, order, instalments, user=None):
        """Make an instalment plan through the wizard, as the sales rep by default;
        ``instalments`` are (date, percent) or (date, None, amount)."""
        wizard = self.Wizard.with_user(user or self.rep).create(
            {
                "sale_order_id": order.id,
                "billing_mode": "instalment",
                "instalment_ids": [
                    Command.create(
                        {"date": day, "value_type": "percent", "percent": rest[0]}
                        if rest[0] is not None
                        else {"date": day, "value_type": "amount", "amount": rest[1]}
                    )
                    for day, *rest in instalments
                ],
            }
        )
        return wizard.action_confirm()

    def _run(self, schedules, today):
        """The billing run, as the cron calls it (without its commits)."""
        schedules = schedules.sudo()
        return schedules._generate_invoices(today)


@tagged("post_install", "-at_install")
class TestSalesFlowInstalments(SalesFlowCommon):
    @freeze_time("2027-01-31 10:00:00")
    def test_deposit_and_milestones_to_the_cent(self):
        order = self._order()
        self.assertEqual(order.amount_total, 1000.01)
        action = self._plan(
            order,
            [(date(2027, 1, 31), 30.0), (date(2027, 2, 28), 40.0), (date(2027, 3, 31), 30.0)],
        )
        plan = order.billing_schedule_ids
        self.assertEqual(plan.schedule_type, "instalment")
        self.assertEqual(plan.state, "running")
        self.assertEqual(plan.line_ids.mapped("amount"), [300.0, 400.0, 300.01])
        self.assertAlmostEqual(plan.amount_untaxed, order.amount_untaxed, places=2)

        # the deposit, due today, is invoiced at once and shown to the rep
        deposit = plan.invoice_ids
        self.assertEqual(len(deposit), 1)
        # the rep is told what was invoiced, then lands on the plan's form
        self.assertEqual(action["tag"], "display_notification")
        self.assertIn(deposit.display_name, action["params"]["message"])
        self.assertIn("300.00", action["params"]["message"])
        landing = action["params"]["next"]
        self.assertEqual(
            (landing["res_model"], landing["res_id"]), ("crm.billing.schedule", plan.id)
        )
        self.assertEqual(landing["views"], [(False, "form")])
        # nor may he have it posted: his accountant posts it, and the next ones
        self.assertEqual(deposit.state, "draft")
        deposit.sudo().action_post()
        plan.sudo().auto_post = True
        self.assertEqual(deposit.invoice_date, date(2027, 1, 31))
        self.assertAlmostEqual(deposit.amount_total, 300.0, places=2)
        self.assertTrue(all(deposit.invoice_line_ids.sale_line_ids.mapped("is_downpayment")))
        self.assertEqual(plan.line_ids[0].invoice_id, deposit)
        order.invalidate_recordset()
        self.assertEqual(order.invoice_status, "to invoice")
        self.assertAlmostEqual(order.amount_invoiced, 300.0, places=2)

        # nothing else is due before the second milestone, however often the run goes
        self.assertFalse(self._run(plan, date(2027, 1, 31)))
        self.assertFalse(self._run(plan, date(2027, 2, 27)))

        second = self._run(plan, date(2027, 2, 28))
        self.assertEqual(len(second), 1)
        self.assertAlmostEqual(second.amount_total, 400.0, places=2)
        self.assertEqual(second.invoice_date, date(2027, 2, 28))
        self.assertFalse(self._run(plan, date(2027, 2, 28)))
        order.invalidate_recordset()
        self.assertAlmostEqual(order.amount_invoiced, 700.0, places=2)
        self.assertEqual(order.invoice_status, "to invoice")

        final = self._run(plan, date(2027, 3, 31))
        self.assertEqual(len(final), 1)
        self.assertEqual(final.state, "posted")
        self.assertAlmostEqual(final.amount_total, 300.01, places=2)
        # the final invoice bills the order lines and deducts both down payments
        self.assertEqual(
            final.invoice_line_ids.filtered(lambda line: line.display_type == "product")
            .sale_line_ids.filtered(lambda line: not line.is_downpayment)
            .product_id,
            self.service_taxed + self.service_untaxed,
        )
        self.assertEqual(plan.state, "done")
        self.assertFalse(self._run(plan, date(2027, 4, 30)))

        invoices = plan.invoice_ids
        self.assertEqual(len(invoices), 3)
        self.assertAlmostEqual(sum(invoices.mapped("amount_total")), order.amount_total, places=2)
        self.assertAlmostEqual(sum(invoices.mapped("amount_tax")), order.amount_tax, places=2)
        self.assertAlmostEqual(
            sum(invoices.mapped("amount_untaxed")), order.amount_untaxed, places=2
        )
        order.invalidate_recordset()
        self.assertEqual(order.invoice_status, "invoiced")
        self.assertAlmostEqual(order.amount_invoiced, 1000.01, places=2)
        self.assertAlmostEqual(order.amount_to_invoice, 0.0, places=2)
        self.assertEqual(len(plan.period_ids), 3)

    @freeze_time("2027-01-31 10:00:00")
    def test_missed_runs_catch_up_once(self):
        """A run that missed the milestones invoices each once, the last as the
        final invoice; a second run finds nothing."""
        order = self._order()
        self._plan(
            order,
            [
                (date(2027, 2, 15), None, 333.33),
                (date(2027, 3, 15), None, 333.33),
                (date(2027, 4, 15), None, 333.35),
            ],
        )
        plan = order.billing_schedule_ids
        self.assertFalse(plan.invoice_ids, "nothing is due yet")
        plan.sudo().auto_post = True  # by the accountant: the rep may not
        invoices = self._run(plan, date(2027, 5, 1))
        self.assertEqual(len(invoices), 3)
        self.assertEqual(sorted(invoices.mapped("amount_total")), [333.33, 333.33, 333.35])
        self.assertFalse(self._run(plan, date(2027, 5, 1)))
        order.invalidate_recordset()
        self.assertEqual(order.invoice_status, "invoiced")
        self.assertAlmostEqual(order.amount_invoiced, 1000.01, places=2)

    @freeze_time("2027-01-31 10:00:00")
    def test_proposal(self):
        """The wizard proposes 30% now and 70% in 30 days, to the cent."""
        order = self._order()
        wizard = (
            self.Wizard.with_user(self.rep).with_context(default_sale_order_id=order.id).create({})
        )
        self.assertEqual(wizard.billing_mode, "instalment")
        self.assertEqual(wizard.instalment_ids.mapped("percent"), [30.0, 70.0])
        self.assertEqual(
            wizard.instalment_ids.mapped("date"), [date(2027, 1, 31), date(2027, 3, 2)]
        )
        self.assertEqual(wizard.instalment_ids.mapped("amount"), [300.0, 700.01])
        self.assertEqual(wizard.amount_unplanned, 0.0)

    @freeze_time("2027-01-31 10:00:00")
    def test_invoice_everything_now(self):
        order = self._order()
        wizard = self.Wizard.with_user(self.rep).create(
            {"sale_order_id": order.id, "billing_mode": "now"}
        )
        wizard.action_confirm()
        invoice = order.invoice_ids
        self.assertEqual(len(invoice), 1)
        self.assertAlmostEqual(invoice.amount_total, 1000.01, places=2)
        self.assertEqual(order.invoice_status, "invoiced")
        self.assertFalse(order.billing_schedule_ids)


@tagged("post_install", "-at_install")
class TestSalesFlowRefusals(SalesFlowCommon):
    """Bad input is refused with a clear error, and nothing changes."""

    def _assert_refused(self, order, instalments, exception, message):
        schedules = self.Schedule.search_count([])
        invoices = self.env["account.move"].search_count([])
        lines = len(order.order_line)
        # Odoo's assertRaises rolls back to a savepoint, as a refused request would
        with self.assertRaises(exception) as refusal:
            self._plan(order, instalments)
        self.assertRegex(str(refusal.exception), message)
        self.assertEqual(self.Schedule.search_count([]), schedules)
        self.assertEqual(self.env["account.move"].search_count([]), invoices)
        order.invalidate_recordset()
        self.assertEqual(len(order.order_line), lines)

    @freeze_time("2027-01-31 10:00:00")
    def test_not_adding_up(self):
        order = self._order()
        self._assert_refused(
            order,
            [(date(2027, 1, 31), 30.0), (date(2027, 3, 1), 60.0)],
            ValidationError,
            "add up to",
        )
        self._assert_refused(
            order,
            [(date(2027, 1, 31), None, 500.0), (date(2027, 3, 1), None, 500.0)],
            ValidationError,
            "add up to",
        )

    @freeze_time("2027-01-31 10:00:00")
    def test_date_before_order(self):
        order = self._order()
        self._assert_refused(
            order,
            [(date(2027, 1, 30), 30.0), (date(2027, 3, 1), 70.0)],
            ValidationError,
            "before order",
        )

    @freeze_time("2027-01-31 10:00:00")
    def test_cancelled_order(self):
        order = self._order()
        order.with_user(self.rep)._action_cancel()
        with self.assertRaises(UserError) as refusal:
            order.with_user(self.rep).action_create_billing_schedule()
        self.assertRegex(str(refusal.exception), "cancelled")
        self._assert_refused(order, [(date(2027, 1, 31), 100.0)], UserError, "cancelled")

    @freeze_time("2027-01-31 10:00:00")
    def test_second_plan(self):
        order = self._order()
        self._plan(order, [(date(2027, 1, 31), 30.0), (date(2027, 3, 1), 70.0)])
        # a second plan while the first one runs
        self._assert_refused(order, [(date(2027, 2, 1), 100.0)], ValidationError, "already has")
        # ... or once it is cancelled: the deposit is already invoiced
        order.billing_schedule_ids.with_user(self.rep).action_cancel()
        self._assert_refused(
            order,
            [(date(2027, 2, 1), None, 500.0), (date(2027, 3, 1), None, 500.01)],
            ValidationError,
            "already invoiced",
        )
        # covering only what is left is fine
        self._plan(order, [(date(2027, 3, 1), 100.0)])
        plan = order.billing_schedule_ids.filtered(lambda s: s.state == "running")
        self.assertEqual(plan.line_ids.amount, 700.01)
        final = self._run(plan, date(2027, 3, 1))
        self.assertAlmostEqual(final.amount_total, 700.01, places=2)
        # the rep's instalments are drafts: his accountant posts them
        order.sudo().invoice_ids.filtered(lambda m: m.state == "draft").action_post()
        order.invalidate_recordset()
        self.assertEqual(order.invoice_status, "invoiced")
        self.assertAlmostEqual(order.amount_invoiced, 1000.01, places=2)
        # nothing is left for a third plan
        self._assert_refused(order, [(date(2027, 3, 2), 100.0)], UserError, "fully invoiced")


@tagged("post_install", "-at_install")
class TestSalesFlowRecurring(SalesFlowCommon):
    @freeze_time("2027-01-31 10:00:00")
    def test_recurring_proposed_from_products(self):
        order = self._order([(self.subscription, 2.0), (self.service_untaxed, 1.0)])
        wizard = (
            self.Wizard.with_user(self.rep).with_context(default_sale_order_id=order.id).create({})
        )
        self.assertEqual(wizard.billing_mode, "recurring")
        self.assertEqual((wizard.rule_type, wizard.interval), ("yearly", 1))
        self.assertEqual(wizard.recurring_line_ids.product_id, self.subscription)
        action = wizard.action_confirm()
        schedule = self.Schedule.browse(action["res_id"])
        self.assertEqual(schedule.schedule_type, "recurring")
        self.assertEqual((schedule.rule_type, schedule.interval), ("yearly", 1))
        self.assertEqual(schedule.line_ids.product_id, self.subscription)
        self.assertEqual(schedule.line_ids.quantity, 2.0)
        self.assertEqual(schedule.sale_order_id, order)

    @freeze_time("2027-01-31 10:00:00")
    def test_opportunity_mrr_and_partner_tab(self):
        lead = (
            self.env["crm.lead"]
            .with_user(self.rep)
            .create({"name": "Hosting deal", "type": "opportunity", "partner_id": self.customer.id})
        )
        order = self._order([(self.subscription, 2.0), (self.service_untaxed, 1.0)], confirm=False)
        order.opportunity_id = lead
        lead.invalidate_recordset()
        # 2 × 1200 a year = 200 a month; the one-off training does not recur
        self.assertAlmostEqual(lead.with_user(self.rep).billing_mrr, 200.0, places=2)
        partner = self.customer.with_user(self.rep)
        self.assertEqual(partner.billing_opportunity_ids, lead)
        self.assertEqual(partner.billing_quotation_ids, order)
        order.action_confirm()
        partner.invalidate_recordset()
        self.assertFalse(partner.billing_quotation_ids)
