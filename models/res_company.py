# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


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
