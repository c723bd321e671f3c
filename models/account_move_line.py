# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class AccountMoveLine(models.Model):
    _inherit = "account.move.line"

    billing_usage_ids = fields.One2many(
        "crm.billing.usage", "invoice_line_id", string="Billed Usage", readonly=True
    )
