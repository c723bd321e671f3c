# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    billing_document_style = fields.Selection(
        related="company_id.billing_document_style", readonly=False
    )
    billing_retry_days = fields.Char(related="company_id.billing_retry_days", readonly=False)
    billing_retry_pause_schedule = fields.Boolean(
        related="company_id.billing_retry_pause_schedule", readonly=False
    )
