# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import _, api, fields, models


class CrmBillingPriceTier(models.Model):
    """One price tier of a metered schedule line (volume or graduated pricing)."""

    _name = "crm.billing.price.tier"
    _description = "Billing Price Tier"
    _order = "line_id, up_to_sort, id"

    line_id = fields.Many2one(
        "crm.billing.schedule.line", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="line_id.company_id", store=True, index=True)
    currency_id = fields.Many2one(related="line_id.currency_id")
    up_to = fields.Float(
        string="Up To",
        digits="Product Unit",
        help="Last unit of the period this tier covers; 0 (empty) for the last tier, "
        "which has no limit.",
    )
    up_to_sort = fields.Float(compute="_compute_up_to_sort", store=True)
    price_unit = fields.Float(string="Unit Price", digits="Product Price", required=True)

    _price_positive = models.Constraint(
        "CHECK(price_unit >= 0)", "A tier's unit price cannot be negative."
    )
    _up_to_positive = models.Constraint("CHECK(up_to >= 0)", "A tier's limit cannot be negative.")

    @api.depends("up_to")
    def _compute_up_to_sort(self):
        # the unlimited tier (0) sorts last
        for tier in self:
            tier.up_to_sort = tier.up_to or 1e300

    def _compute_display_name(self):
        for tier in self:
            limit = tier.up_to and f"≤ {tier.up_to:g}" or _("no limit")
            tier.display_name = f"{limit}: {tier.price_unit:g}"

    @api.constrains("up_to", "price_unit", "line_id")
    def _check_tiers(self):
        self.line_id._check_pricing()

    def _as_pairs(self):
        """These tiers as ``(up_to, price)`` pairs for the pricing arithmetic."""
        return [(tier.up_to or None, tier.price_unit) for tier in self]
