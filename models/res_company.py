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

    billing_statement_monthly_default = fields.Boolean(
        string="Monthly Statements by Default",
        compute="_compute_billing_statement_monthly_default",
        inverse="_inverse_billing_statement_monthly_default",
        help="Customers who have not chosen otherwise receive their activity statement "
        "by email every month.",
    )

    # the company default is the default of the partners' company-dependent field
    @api.depends_context("uid")
    def _compute_billing_statement_monthly_default(self):
        IrDefault = self.env["ir.default"].sudo()
        for company in self:
            company.billing_statement_monthly_default = bool(
                IrDefault.with_company(company)
                ._get_model_defaults("res.partner")
                .get("billing_statement_monthly")
            )

    def _inverse_billing_statement_monthly_default(self):
        IrDefault = self.env["ir.default"].sudo()
        for company in self:
            IrDefault.set(
                "res.partner",
                "billing_statement_monthly",
                company.billing_statement_monthly_default,
                company_id=company.id,
            )

    @api.model_create_multi
    def create(self, vals_list):
        companies = super().create(vals_list)
        # each company numbers its receipts from its own sequence, there from the start
        self.env["account.payment"]._crm_billing_create_receipt_sequences(companies)
        return companies
