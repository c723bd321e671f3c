# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    billing_statement_monthly_default = fields.Boolean(
        related="company_id.billing_statement_monthly_default", readonly=False
    )
    billing_upgrade_invoicing = fields.Selection(
        related="company_id.billing_upgrade_invoicing", readonly=False
    )
    billing_close_credit_unused = fields.Boolean(
        related="company_id.billing_close_credit_unused", readonly=False
    )
    billing_renewal_notice_days = fields.Integer(
        related="company_id.billing_renewal_notice_days", readonly=False
    )
    billing_retry_days = fields.Char(related="company_id.billing_retry_days", readonly=False)
    billing_retry_pause_schedule = fields.Boolean(
        related="company_id.billing_retry_pause_schedule", readonly=False
    )
