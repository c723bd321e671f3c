# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from .billing_period_math import RULE_TYPE_SELECTION, is_valid_interval


class ProductTemplate(models.Model):
    _inherit = "product.template"

    billing_rule_type = fields.Selection(
        RULE_TYPE_SELECTION,
        string="Billing Recurrence",
        help="Set it on subscription products: sold on an order, they are proposed for a "
        "recurring billing schedule with this recurrence, and count in the recurring revenue "
        "of opportunities.",
    )
    billing_interval = fields.Integer(
        string="Billed Every",
        default=1,
        help="Number of recurrence units between two invoices (e.g. every 3 months).",
    )

    billing_portal_add = fields.Boolean(
        string="Customers Add in Portal",
        help="Customers may add this product to their billing schedules in the portal, "
        "where the schedule allows additions.",
    )
    billing_portal_remove = fields.Boolean(
        string="Customers Remove in Portal",
        default=True,
        help="Customers may remove this product from their billing schedules in the "
        "portal, where the schedule allows removals.",
    )
    billing_portal_quantity_min = fields.Float(
        string="Lowest Portal Quantity",
        digits="Product Unit",
        help="The lowest quantity a customer may choose in the portal; the schedule's own "
        "range applies too (the stricter wins).",
    )
    billing_portal_quantity_max = fields.Float(
        string="Highest Portal Quantity",
        digits="Product Unit",
        help="The highest quantity a customer may choose in the portal (0: no limit); the "
        "schedule's own range applies too (the stricter wins).",
    )

    @api.constrains("billing_portal_quantity_min", "billing_portal_quantity_max")
    def _check_billing_portal_quantity_range(self):
        for template in self:
            if template.billing_portal_quantity_min < 0 or (
                template.billing_portal_quantity_max
                and template.billing_portal_quantity_max < template.billing_portal_quantity_min
            ):
                raise ValidationError(
                    _(
                        "Product %s: the portal quantity range goes from 0 or more up to a "
                        "highest quantity not below the lowest.",
                        template.display_name,
                    )
                )

    @api.constrains("billing_rule_type", "billing_interval")
    def _check_billing_interval(self):
        for template in self:
            if template.billing_rule_type and not is_valid_interval(template.billing_interval):
                raise ValidationError(
                    _("Product %s: invoices recur every 1 period or more.", template.display_name)
                )
