# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import _, api, fields, models
from odoo.exceptions import ValidationError


class ResCompany(models.Model):
    _inherit = "res.company"

    billing_statement_monthly_default = fields.Boolean(
        string="Monthly Statements by Default",
        compute="_compute_billing_statement_monthly_default",
        inverse="_inverse_billing_statement_monthly_default",
        help="Customers who have not chosen otherwise receive their activity statement "
        "by email every month.",
    )

    # --- Subscription lifecycle ---

    billing_upgrade_invoicing = fields.Selection(
        [
            ("now", "Prorated invoice at once"),
            ("next_invoice", "On the next invoice"),
        ],
        string="Mid-Period Upgrades",
        default="now",
        required=True,
        help="How an upgrade of a period already invoiced is billed: a prorated invoice "
        "for the rest of the period at once, or a prorated line on the next invoice. "
        "Downgrades are always credited at once.",
    )
    billing_close_credit_unused = fields.Boolean(
        string="Credit Unused Days on Closing",
        default=True,
        help="Closing a schedule at once credits the unused part of a prepaid period.",
    )
    billing_renewal_notice_days = fields.Integer(
        string="Renewal Notice (Days)",
        default=30,
        help="How many days before a fixed-term schedule ends the salesperson gets an "
        "activity and the customer an email.",
    )

    # --- Payment collection ---

    billing_retry_days = fields.Char(
        string="Charge Retry Days",
        default="1,3,7",
        help="Days after the first failed charge of an invoice on which it is charged "
        "again, comma-separated (e.g. 1,3,7). Empty: no retry.",
    )
    billing_retry_pause_schedule = fields.Boolean(
        string="Pause Schedule After Last Retry",
        help="When the last retry of an invoice fails, pause its billing schedule.",
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

    @api.constrains("billing_retry_days")
    def _check_billing_retry_days(self):
        for company in self:
            company._billing_retry_offsets()

    def _billing_retry_offsets(self):
        """The retry days as a list of increasing positive integers; a clear error
        for anything else."""
        self.ensure_one()
        text = (self.billing_retry_days or "").strip()
        if not text:
            return []
        try:
            offsets = [int(part) for part in text.replace(" ", "").split(",")]
        except ValueError:
            offsets = None
        if not offsets or any(day < 1 for day in offsets) or offsets != sorted(set(offsets)):
            raise ValidationError(
                _(
                    "Charge retry days must be whole days after the first failed charge, "
                    "increasing and comma-separated, such as 1,3,7 (not %s).",
                    self.billing_retry_days,
                )
            )
        return offsets

    @api.model_create_multi
    def create(self, vals_list):
        companies = super().create(vals_list)
        # each company numbers its receipts from its own sequence, there from the start
        self.env["account.payment"]._crm_billing_create_receipt_sequences(companies)
        return companies
