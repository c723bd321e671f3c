# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import Command, _, fields, models
from odoo.exceptions import UserError


class SaleOrder(models.Model):
    _inherit = "sale.order"

    billing_schedule_ids = fields.One2many(
        "crm.billing.schedule", "sale_order_id", string="Billing Schedules"
    )
    billing_schedule_count = fields.Integer(compute="_compute_billing_schedule_count")
    billing_plan_active = fields.Boolean(
        compute="_compute_billing_schedule_count",
        help="A billing schedule of this order is running (or about to): it does the invoicing.",
    )

    def _compute_billing_schedule_count(self):
        counts = {}
        live = set()
        for order, state, count in self.env["crm.billing.schedule"]._read_group(
            [("sale_order_id", "in", self.ids)], ["sale_order_id", "state"], ["__count"]
        ):
            counts[order] = counts.get(order, 0) + count
            if state in ("draft", "running", "paused"):
                live.add(order)
        for order in self:
            order.billing_schedule_count = counts.get(order, 0)
            order.billing_plan_active = order in live

    def _prepare_billing_schedule_vals(self, lines=None):
        """Values of a recurring schedule invoicing ``lines`` (all product lines by
        default) of this order; extend to add fields."""
        self.ensure_one()
        lines = (
            lines
            if lines is not None
            else self.order_line.filtered(
                lambda line: not line.display_type and not line.is_downpayment
            )
        )
        return {
            "partner_id": self.partner_invoice_id.id,
            "company_id": self.company_id.id,
            "currency_id": self.currency_id.id,
            "sale_order_id": self.id,
            "user_id": self.user_id.id,
            "payment_term_id": self.payment_term_id.id,
            "fiscal_position_id": self.fiscal_position_id.id,
            "date_start": fields.Date.context_today(self),
            "line_ids": [
                Command.create(
                    {
                        "product_id": line.product_id.id,
                        "name": line.name,
                        "quantity": line.product_uom_qty,
                        "price_unit": line.price_unit,
                        "discount": line.discount,
                        "tax_ids": [Command.set(line.tax_ids.ids)],
                        "sale_line_id": line.id,
                    }
                )
                for line in lines
            ],
        }

    def action_create_billing_schedule(self):
        """Ask how to bill this order: all now, in instalments or as a recurring
        schedule."""
        self.ensure_one()
        self._crm_billing_check_billable()
        self._crm_billing_check_unplanned()
        return {
            "type": "ir.actions.act_window",
            "name": _("Bill %s", self.name),
            "res_model": "crm.billing.schedule.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_sale_order_id": self.id},
        }

    def _crm_billing_check_billable(self):
        for order in self:
            if order.state == "cancel":
                raise UserError(_("Order %s is cancelled: it cannot be billed.", order.name))
            if order.state != "sale":
                raise UserError(_("Confirm quotation %s before billing it.", order.name))

    def _crm_billing_check_unplanned(self):
        """Opening the Billing Plan on an order whose balance its schedules already
        bill says so at once, instead of proposing a plan that would be refused."""
        for order in self:
            unplanned_recurring = (
                order._crm_billing_recurring_lines()
                - order.billing_schedule_ids.filtered(
                    lambda s: s.state in ("draft", "running", "paused")
                ).line_ids.sale_line_id
            )
            if (
                not unplanned_recurring
                and order.currency_id.compare_amounts(order._crm_billing_amount_left(), 0.0) <= 0
            ):
                raise UserError(
                    _(
                        "Order %s is already fully invoiced: there is nothing left to bill.",
                        order.name,
                    )
                )
            plans = order._crm_billing_covering_schedules()
            if plans:
                raise UserError(
                    _(
                        "What is left to bill on order %(order)s is already planned by "
                        "%(schedules)s: open the schedule to change it.",
                        order=order.name,
                        schedules=", ".join(plans.mapped("name")),
                    )
                )

    def _crm_billing_covering_schedules(self):
        """The live billing schedules of this order when, together, they already bill
        everything left on it: every recurring line is on a recurring schedule and the
        instalments not yet invoiced add up to what is left to invoice. Empty when
        something is still unplanned."""
        self.ensure_one()
        schedules = self.billing_schedule_ids.filtered(
            lambda s: s.state in ("draft", "running", "paused")
        )
        if not schedules:
            return schedules
        recurring = schedules.filtered(lambda s: s.schedule_type == "recurring")
        if self._crm_billing_recurring_lines() - recurring.line_ids.sale_line_id:
            return schedules.browse()
        one_off = self.order_line.filtered(
            lambda line: (
                not line.display_type
                and not line.is_downpayment
                and not line.product_id.product_tmpl_id.billing_rule_type
            )
        )
        if not one_off:
            return schedules
        instalments = (schedules - recurring).line_ids.filtered(lambda line: not line.invoice_id)
        planned = sum(instalments.mapped("amount"))
        if self.currency_id.compare_amounts(planned, self._crm_billing_amount_left()) >= 0:
            return schedules
        return schedules.browse()

    def _crm_billing_recurring_lines(self):
        """Product lines whose product recurs."""
        return self.order_line.filtered(
            lambda line: (
                not line.display_type
                and not line.is_downpayment
                and line.product_id.product_tmpl_id.billing_rule_type
            )
        )

    def _crm_billing_proposed_recurrence(self):
        """(rule type, interval) proposed for a recurring schedule of this order: the
        recurrence of most of its recurring lines, monthly when none recurs."""
        recurrences = [
            (line.product_id.billing_rule_type, max(line.product_id.billing_interval, 1))
            for line in self._crm_billing_recurring_lines()
        ]
        if not recurrences:
            return "monthly", 1
        return max(recurrences, key=recurrences.count)

    def action_view_billing_schedules(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "crm_billing.crm_billing_schedule_action"
        )
        action["domain"] = [("sale_order_id", "=", self.id)]
        action["context"] = {
            "default_sale_order_id": self.id,
            "default_partner_id": self.partner_id.id,
        }
        if len(self.billing_schedule_ids) == 1:
            action["views"] = [(False, "form")]
            action["res_id"] = self.billing_schedule_ids.id
        return action

    def _get_invoiceable_lines(self, final=False):
        # a billing schedule invoicing what the order delivered invoices its own lines only
        lines = super()._get_invoiceable_lines(final)
        only = self.env.context.get("crm_billing_sale_line_ids")
        if only is not None:
            lines = lines.filtered(lambda line: line.id in only)
        return lines
