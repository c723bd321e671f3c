# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, models

from odoo.addons.base.models.ir_actions_report import _wkhtml


class CrmBillingDocumentReport(models.AbstractModel):
    """What crm_billing's own report models (the customer statement) share: the
    customer's language, the amount in words, and whether the footer must close the
    document. The invoice, the quotation and the receipt are Odoo's own reports,
    extended by inheritance."""

    _name = "crm.billing.document.report"
    _description = "CRM Billing Document Report"

    _document_model = None

    @api.model
    def _document_lang(self, partner, company):
        return partner.lang or company.partner_id.lang or self.env.lang or "en_US"

    @api.model
    def _amount_in_words(self, currency, amount, lang):
        """The amount spelled out in the customer's language (num2words)."""
        return currency.with_context(lang=lang).amount_to_text(abs(amount))

    @api.model
    def _inline_footer(self, data):
        """wkhtmltopdf built on an unpatched Qt ignores page footers: the documents
        then end with the footer instead."""
        return (data or {}).get("report_type") == "pdf" and not _wkhtml().is_patched_qt

    @api.model
    def _get_common_values(self, docids, data):
        return {
            "doc_ids": docids,
            "doc_model": self._document_model,
            "docs": self.env[self._document_model].browse(docids),
            "data": data,
            "crm_billing_lang": self._document_lang,
            "crm_billing_amount_in_words": self._amount_in_words,
            "crm_billing_inline_footer": self._inline_footer(data),
        }
