# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""crm_billing's invoice and receipt reports gave way to Odoo's own, and its document
style field to Odoo's document layouts."""

from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    # the receipt template (noupdate) lost its report with crm_billing's receipt
    template = env.ref("crm_billing.mail_template_receipt", raise_if_not_found=False)
    receipt = env.ref("account.action_report_payment_receipt", raise_if_not_found=False)
    if template and receipt and not template.report_template_ids:
        template.report_template_ids = receipt
    cr.execute("ALTER TABLE res_company DROP COLUMN IF EXISTS billing_document_style")
