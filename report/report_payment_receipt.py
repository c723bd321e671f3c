# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, models

from ..models.account_payment import RECEIPT_POSTED_STATES


class ReportAccountReportPaymentReceipt(models.AbstractModel):
    """Odoo's payment receipt (account.action_report_payment_receipt). A customer
    payment's receipt exists only once the payment is posted; its first PDF print
    numbers it, every later print counts as a copy. Vendor payments, and payments not
    posted (a draft sent from Odoo's own composer), print as in Odoo, unnumbered."""

    _name = "report.account.report_payment_receipt"
    _description = "Payment Receipt"

    @api.model
    def _get_report_values(self, docids, data=None):
        payments = self.env["account.payment"].browse(docids)
        receipts = payments.filtered(
            lambda p: p.payment_type == "inbound" and p.state in RECEIPT_POSTED_STATES
        )
        if (data or {}).get("report_type", "pdf") == "pdf":
            receipts._crm_billing_register_receipt_print()
        return {
            "doc_ids": docids,
            "doc_model": "account.payment",
            "docs": payments,
            "data": data,
        }
