# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import _, models


class SaleOrderLine(models.Model):
    _inherit = "sale.order.line"

    def _prepare_invoice_line(self, **optional_values):
        """An order line invoiced for a period of a billing schedule says which
        period its delivered quantity belongs to."""
        vals = super()._prepare_invoice_line(**optional_values)
        period = self.env.context.get("crm_billing_period")
        schedule_line = (
            self.env["crm.billing.schedule.line"].search(
                [("sale_line_id", "=", self.id), ("quantity_source", "=", "delivered")], limit=1
            )
            if period and not self.display_type
            else None
        )
        if schedule_line:
            vals["name"] = _(
                "%(name)s\nDelivered %(dates)s: %(quantity)s",
                name=vals.get("name") or self.name,
                dates=schedule_line._format_usage_dates(*period),
                quantity=schedule_line._format_usage_quantity(vals.get("quantity", 0.0)),
            )
        return vals
