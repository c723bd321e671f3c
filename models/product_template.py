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

    @api.constrains("billing_rule_type", "billing_interval")
    def _check_billing_interval(self):
        for template in self:
            if template.billing_rule_type and not is_valid_interval(template.billing_interval):
                raise ValidationError(
                    _("Product %s: invoices recur every 1 period or more.", template.display_name)
                )
