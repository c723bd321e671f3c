# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Instalment plans of sales orders: a billing schedule whose instalments the order
invoices (sale's own down payments, then the order's final invoice)."""

from odoo import Command, _, api, fields, models
from odoo.exceptions import UserError, ValidationError


class SaleOrder(models.Model):
    _inherit = "sale.order"

    # --- Instalment rules ---
    # The one definition of what an instalment plan of an order must be, called by
    # the plan wizard before it makes a plan and by the plan's own constraint.

    def _crm_billing_order_date(self):
        """The day the order was placed, in the user's time zone."""
        self.ensure_one()
        return fields.Date.context_today(self, self.date_order)

    def _crm_billing_amount_left(self):
        """What is left to invoice on this order, taxes included: its total less every
        invoice (draft or posted, credit notes deducted) made for it."""
        self.ensure_one()
        invoiced = 0.0
        for move in self.invoice_ids.filtered(lambda m: m.state != "cancel"):
            amount = move.currency_id._convert(
                move.amount_total,
                self.currency_id,
                self.company_id,
                move.invoice_date or fields.Date.context_today(self),
            )
            invoiced += -amount if move.move_type == "out_refund" else amount
        return self.currency_id.round(self.amount_total - invoiced)

    def _billing_check_instalments(self, instalments, total, plan_name=None):
        """Refuse instalments that do not make a plan of this order: there must be
        at least one, each dated on or after the order date and for an amount, and
        together they add up to ``total`` (what is left to invoice, taxes included)
        to the cent. ``instalments`` are ``(label, date, amount)`` triples."""
        self.ensure_one()
        currency = self.currency_id
        if currency.compare_amounts(total, 0.0) <= 0:
            raise UserError(
                _("Order %s is already fully invoiced: there is nothing left to plan.", self.name)
            )
        if not instalments:
            if plan_name:
                raise ValidationError(_("Instalment plan %s has no instalments.", plan_name))
            raise ValidationError(_("Add at least one instalment."))
        order_date = self._crm_billing_order_date()
        for label, day, amount in instalments:
            if not day:
                if plan_name:
                    raise ValidationError(_("Every instalment of %s needs a date.", plan_name))
                raise ValidationError(_("Every instalment needs a date."))
            if day < order_date:
                raise ValidationError(
                    _(
                        "Instalment %(line)s falls due on %(date)s, before order %(order)s "
                        "was placed on %(order_date)s.",
                        line=label,
                        date=day,
                        order=self.name,
                        order_date=order_date,
                    )
                )
            if currency.compare_amounts(amount, 0.0) <= 0:
                raise ValidationError(
                    _(
                        "Instalment %s has no amount: give it a percentage or an amount.",
                        label,
                    )
                )
        planned = sum(amount for _label, _day, amount in instalments)
        if currency.compare_amounts(planned, total) == 0:
            return
        already = currency.round(self.amount_total - total)
        if currency.compare_amounts(already, 0.0) > 0:
            raise ValidationError(
                _(
                    "The instalments add up to %(total)s, but only %(left)s is left to "
                    "invoice on order %(order)s (%(already)s is already invoiced): they "
                    "must add up to exactly that, 100%% of it.",
                    total=currency.format(planned),
                    left=currency.format(total),
                    order=self.name,
                    already=currency.format(already),
                )
            )
        raise ValidationError(
            _(
                "The instalments add up to %(total)s, not to the order total of %(left)s: "
                "they must add up to exactly 100%% of it.",
                total=currency.format(planned),
                left=currency.format(total),
            )
        )


class CrmBillingSchedule(models.Model):
    _inherit = "crm.billing.schedule"

    # --- Instalments ---
    # Instalment plans made from a sales order: the order builds their invoices.
    #
    # Every instalment but the last is one of sale's own down payments (a fixed amount,
    # taxes included, that sale spreads over the order's taxes); the last one is the
    # order's final invoice, which invoices the order lines and deducts those down
    # payments. The order's invoiced amounts and invoice status thus stay sale's own,
    # and after the last instalment the order is fully invoiced, nothing billed twice.
    # The plan's lines only say when and how much; products, prices and taxes come
    # from the order.

    @api.model_create_multi
    def create(self, vals_list):
        Order = self.env["sale.order"]
        for vals in vals_list:
            if (
                vals.get("schedule_type") == "instalment"
                and vals.get("sale_order_id")
                and not vals.get("instalment_total")
            ):
                # what the plan must add up to: what is left to invoice on the order
                vals["instalment_total"] = Order.browse(
                    vals["sale_order_id"]
                )._crm_billing_amount_left()
        return super().create(vals_list)

    def _is_order_instalment_plan(self):
        self.ensure_one()
        return self.schedule_type == "instalment" and bool(self.sale_order_id)

    @api.constrains("line_ids", "state", "instalment_total", "sale_order_id", "schedule_type")
    def _check_instalment_plan(self):
        """An open plan of an order adds up to its total to the cent, falls due on or
        after the order date, and is the order's only open plan."""
        plans = self.filtered(
            lambda s: s._is_order_instalment_plan() and s.state not in ("done", "cancelled")
        )
        others = (
            self.search(
                [
                    ("sale_order_id", "in", plans.sale_order_id.ids),
                    ("schedule_type", "=", "instalment"),
                    ("state", "not in", ("done", "cancelled")),
                ]
            )
            if plans
            else self.browse()
        )
        for plan in plans:
            order = plan.sale_order_id
            if order.state == "cancel":
                raise ValidationError(
                    _("Order %s is cancelled: it cannot be invoiced in instalments.", order.name)
                )
            if others.filtered(lambda s, p=plan: s.sale_order_id == p.sale_order_id and s != p):
                raise ValidationError(
                    _(
                        "Order %s already has an instalment plan: cancel it before making another.",
                        order.name,
                    )
                )
            plan._check_instalment_lines()

    def _check_instalment_lines(self):
        self.ensure_one()
        self.sale_order_id._billing_check_instalments(
            [(line.name, line.date, line.amount) for line in self.line_ids],
            self.instalment_total,
            plan_name=self.name,
        )

    def _invoice_due_instalments(self, today):
        """Invoice the due instalments of this order plan, oldest first: down payments,
        then the order's final invoice for the last one."""
        self.ensure_one()
        Move = self.env["account.move"]
        due = self._due_periods(today)
        if not due:
            self._check_done()
            return Move
        self._check_ready()
        self._check_instalment_plan()
        last_day = self._instalment_periods()[-1].date_start
        invoices = Move
        for period in due:
            lines = self.line_ids.filtered(lambda line, d=period.date_start: line.date == d)
            if period.date_start == last_day:
                invoice = self._create_final_instalment_invoice(period)
            else:
                invoice = self._create_instalment_down_payment(period, lines)
            invoice_sudo = invoice.sudo()
            invoice_vals = {
                "billing_schedule_id": self.id,
                "invoice_date": self._period_invoice_date(period),
            }
            if self.journal_id and invoice_sudo.journal_id != self.journal_id:
                invoice_vals["journal_id"] = self.journal_id.id
            invoice_sudo.write(invoice_vals)
            # periods are the run's own bookkeeping: whoever triggers the run (a sales
            # rep invoicing a deposit) records them, like sale creates its invoices
            period_record = (
                self.env["crm.billing.period"]
                .sudo()
                .create(self._prepare_period_vals(period, invoice))
            )
            invoice_sudo.billing_period_id = period_record
            lines.sudo().invoice_id = invoice
            invoices |= invoice
        if self.auto_post:
            invoices.sudo().action_post()
        self._check_done()
        return invoices

    def _create_instalment_down_payment(self, period, lines):
        """One of sale's down payments, for the amount (taxes included) of ``lines``."""
        order = self.sale_order_id
        amount = self.currency_id.round(sum(lines.mapped("amount")))
        if self.currency_id.compare_amounts(amount, order._crm_billing_amount_left()) > 0:
            raise UserError(
                _(
                    "Instalment of %(date)s of %(plan)s (%(amount)s) exceeds what is left to "
                    "invoice on order %(order)s.",
                    date=period.date_start,
                    plan=self.name,
                    amount=self.currency_id.format(amount),
                    order=order.name,
                )
            )
        wizard = (
            self.env["sale.advance.payment.inv"]
            .with_context(active_model="sale.order", active_ids=order.ids)
            .create(
                {
                    "advance_payment_method": "fixed",
                    "fixed_amount": amount,
                    "sale_order_ids": [Command.set(order.ids)],
                }
            )
        )
        return wizard._create_invoices(order)

    def _create_final_instalment_invoice(self, period):
        """The order's final invoice: every order line, less the down payments."""
        order = self.sale_order_id
        precision = self.env["decimal.precision"].precision_get("Product Unit")
        waiting = order.order_line.filtered(
            lambda line: (
                not line.display_type
                and not line.is_downpayment
                and round(line.product_uom_qty - line.qty_invoiced - line.qty_to_invoice, precision)
                > 0
            )
        )
        if waiting:
            raise UserError(
                _(
                    "The last instalment of %(plan)s waits until order %(order)s can be fully "
                    "invoiced (not yet delivered: %(products)s).",
                    plan=self.name,
                    order=order.name,
                    products=", ".join(waiting.mapped("product_id.display_name")),
                )
            )
        return order._create_invoices(final=True)
