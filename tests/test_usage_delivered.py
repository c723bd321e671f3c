# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import date

from freezegun import freeze_time

from odoo import Command
from odoo.tests import tagged

from .common import BillingCommon


@tagged("post_install", "-at_install")
class TestDeliveredQuantities(BillingCommon):
    """Lines billing what the sales order delivered: the order invoices them."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        for xmlid in (
            "sales_team.group_sale_manager",
            "hr.group_hr_user",
            "hr_timesheet.group_hr_timesheet_user",
            "project.group_project_manager",
        ):
            group = cls.env.ref(xmlid, raise_if_not_found=False)
            if group:
                cls.env.user.group_ids |= group

    def _order_schedule(self, product, quantity=100.0):
        order = self.env["sale.order"].create(
            {
                "partner_id": self.customer.id,
                "date_order": "2027-03-01 09:00:00",
                "order_line": [
                    Command.create(
                        {"product_id": product.id, "product_uom_qty": quantity, "price_unit": 90.0}
                    )
                ],
            }
        )
        order.action_confirm()
        order_line = order.order_line
        schedule = self._create_schedule(
            lines=[
                {
                    "product_id": product.id,
                    "name": product.name,
                    "quantity_source": "delivered",
                    "sale_line_id": order_line.id,
                    "price_unit": 90.0,
                }
            ],
            sale_order_id=order.id,
            date_start=date(2027, 3, 1),
            invoicing_mode="postpaid",
        )
        schedule.action_start()
        return order, schedule

    def test_delivered_over_three_periods(self):
        product = self._create_product(
            name="Field work", type="service", invoice_policy="delivery", lst_price=90.0
        )
        order, schedule = self._order_schedule(product)
        order_line = order.order_line
        invoices = self.env["account.move"]
        for day, delivered, expected in (
            ("2027-03-31", 5.0, 5.0),
            ("2027-04-30", 12.0, 7.0),
            ("2027-05-31", 15.0, 3.0),
        ):
            order_line.qty_delivered = delivered
            with freeze_time(day):
                invoice = schedule._generate_invoices()
            self.assertEqual(len(invoice), 1)
            self.assertEqual(invoice.invoice_line_ids.quantity, expected)
            self.assertEqual(invoice.invoice_line_ids.sale_line_ids, order_line)
            self.assertEqual(invoice.amount_untaxed, expected * 90.0)
            self.assertEqual(invoice.billing_schedule_id, schedule)
            self.assertEqual(invoice.state, "posted")
            self.assertEqual(order_line.qty_invoiced, delivered, "sale's own invoiced quantity")
            self.assertEqual(order_line.qty_to_invoice, 0.0)
            invoices |= invoice
        self.assertIn("Delivered 1 Apr – 30 Apr 2027: 7", invoices[1].invoice_line_ids.name)
        self.assertEqual(
            invoices.mapped("invoice_date"),
            [date(2027, 3, 31), date(2027, 4, 30), date(2027, 5, 31)],
        )
        self.assertEqual(order.invoice_ids, invoices)
        # nothing delivered in June: no invoice, and the period is done
        with freeze_time("2027-06-30"):
            self.assertFalse(schedule._generate_invoices())
        self.assertEqual(len(schedule.period_ids), 4)

    def test_billable_hours_per_month(self):
        """With sale_timesheet, each month invoices that month's timesheets only."""
        if "timesheet_invoice_id" not in self.env["account.analytic.line"]._fields:
            self.skipTest("sale_timesheet is not installed (see tests/test_modules.txt)")
        product = self._create_product(
            name="Consulting hour",
            type="service",
            invoice_policy="delivery",
            service_type="timesheet",
            service_tracking="task_in_project",
            uom_id=self.env.ref("uom.product_uom_hour").id,
            lst_price=90.0,
        )
        order, schedule = self._order_schedule(product)
        task = order.order_line.task_id
        self.assertTrue(task)
        employee = self.env["hr.employee"].create(
            {"name": "Ada", "company_id": self.env.company.id}
        )

        def log(day, hours):
            return self.env["account.analytic.line"].create(
                {
                    "name": "work",
                    "project_id": task.project_id.id,
                    "task_id": task.id,
                    "employee_id": employee.id,
                    "date": day,
                    "unit_amount": hours,
                }
            )

        march = log(date(2027, 3, 10), 4.0) | log(date(2027, 3, 31), 6.0)
        april = log(date(2027, 4, 1), 3.0)  # already logged when March is invoiced
        with freeze_time("2027-03-31"):
            invoice_march = schedule._generate_invoices()
        self.assertEqual(invoice_march.invoice_line_ids.quantity, 10.0)
        self.assertEqual(invoice_march.amount_untaxed, 900.0)
        self.assertEqual(march.timesheet_invoice_id, invoice_march)
        self.assertFalse(april.timesheet_invoice_id)
        self.assertIn(
            "Delivered 1 Mar – 31 Mar 2027: 10 Hours", invoice_march.invoice_line_ids.name
        )
        april |= log(date(2027, 4, 30), 2.5)
        with freeze_time("2027-04-30"):
            invoice_april = schedule._generate_invoices()
        self.assertEqual(invoice_april.invoice_line_ids.quantity, 5.5)
        self.assertEqual(april.timesheet_invoice_id, invoice_april)
        self.assertEqual(order.order_line.qty_invoiced, 15.5)
