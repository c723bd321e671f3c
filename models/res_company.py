# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    billing_document_style = fields.Selection(
        selection=[
            ("classic", "Classic"),
            ("modern", "Modern"),
            ("compact", "Compact"),
        ],
        default="classic",
        required=True,
        help="Look of the invoices, estimates and receipts printed by CRM Billing.",
    )

    @api.model_create_multi
    def create(self, vals_list):
        companies = super().create(vals_list)
        # each company numbers its receipts from its own sequence, there from the start
        self.env["account.payment"]._crm_billing_create_receipt_sequences(companies)
        return companies
