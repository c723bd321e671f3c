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

    def _compute_billing_schedule_count(self):
        counts = dict(
            self.env["crm.billing.schedule"]._read_group(
                [("sale_order_id", "in", self.ids)], ["sale_order_id"], ["__count"]
            )
        )
        for order in self:
            order.billing_schedule_count = counts.get(order, 0)

    def _prepare_billing_schedule_vals(self, lines=None):
        """Values of a recurring schedule invoicing ``lines`` (all product lines by
        default) of this order; extend to add fields."""
        self.ensure_one()
        lines = lines if lines is not None else self.order_line.filtered(
            lambda l: not l.display_type and not l.is_downpayment
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
        """Open a new billing schedule made from this order."""
        self.ensure_one()
        if self.state == "cancel":
            raise UserError(_("Order %s is cancelled: it cannot be billed.", self.name))
        schedule = self.env["crm.billing.schedule"].create(self._prepare_billing_schedule_vals())
        return {
            "type": "ir.actions.act_window",
            "res_model": "crm.billing.schedule",
            "res_id": schedule.id,
            "view_mode": "form",
            "target": "current",
        }

    def action_view_billing_schedules(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "crm_billing.crm_billing_schedule_action"
        )
        action["domain"] = [("sale_order_id", "=", self.id)]
        action["context"] = {"default_sale_order_id": self.id, "default_partner_id": self.partner_id.id}
        if len(self.billing_schedule_ids) == 1:
            action["views"] = [(False, "form")]
            action["res_id"] = self.billing_schedule_ids.id
        return action
