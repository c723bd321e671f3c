# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import _, api, fields, models
from odoo.exceptions import ValidationError


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
