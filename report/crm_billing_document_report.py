# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import _, api, models
from odoo.exceptions import UserError

from odoo.addons.base.models.ir_actions_report import _wkhtml


class CrmBillingDocumentReport(models.AbstractModel):
    """What the invoice, estimate and receipt share: the customer's address check,
    the document style, the lines and the amount in words in the customer's
    language. Each document's report model only says which records it prints."""

    _name = "crm.billing.document.report"
    _description = "CRM Billing Document Report"

    _document_model = None

    # --- Checks ---

    @api.model
    def _has_address(self, partner):
        return bool(partner.street or partner.street2 or partner.city or partner.zip)

    @api.model
    def _check_addresses(self, documents, partner_getter, document_label):
        """A document addressed to a customer needs the customer's address."""
        missing = documents.filtered(lambda d: not self._has_address(partner_getter(d)))
        if missing:
            names = ", ".join(
                f"{doc.display_name} ({partner_getter(doc).display_name or _('no customer')})"
                for doc in missing
            )
            raise UserError(
                _(
                    "The %(document)s cannot be printed: the customer has no address. "
                    "Add a street, city or ZIP code on the customer, then print again: %(names)s",
                    document=document_label,
                    names=names,
                )
            )

    # --- Shared values ---

    @api.model
    def _document_lang(self, partner, company):
        return partner.lang or company.partner_id.lang or self.env.lang or "en_US"

    @api.model
    def _amount_in_words(self, currency, amount, lang):
        """The amount spelled out in the customer's language (num2words)."""
        return currency.with_context(lang=lang).amount_to_text(abs(amount))

    @api.model
    def _style(self, company):
        return company.billing_document_style or "classic"

    @api.model
    def _taxes_label(self, taxes):
        return ", ".join(tax.tax_label or tax.name for tax in taxes)

    @api.model
    def _prepare_line(self, display_type, name, **values):
        return {"display_type": display_type, "name": name, **values}

    @api.model
    def _get_common_values(self, docids, data):
        docs = self.env[self._document_model].browse(docids)
        return {
            "doc_ids": docids,
            "doc_model": self._document_model,
            "docs": docs,
            "data": data,
            "crm_billing_style": self._style,
            "crm_billing_lang": self._document_lang,
            "crm_billing_amount_in_words": self._amount_in_words,
            "crm_billing_lines": self._get_lines,
            "crm_billing_inline_footer": self._inline_footer(data),
        }

    @api.model
    def _inline_footer(self, data):
        """wkhtmltopdf built on an unpatched Qt ignores page footers: the documents
        then end with the footer instead."""
        return (data or {}).get("report_type") == "pdf" and not _wkhtml().is_patched_qt

    @api.model
    def _get_lines(self, doc):
        return []

    @api.model
    def _prepare_document_lines(self, lines, quantity_field, skip=lambda line: False):
        """Document lines from invoice or order lines: sections and notes as they are,
        product lines with their quantity (``quantity_field``), price and taxes."""
        result = []
        for line in lines.sorted(lambda line: (line.sequence, line.id)):
            if line.display_type in ("line_section", "line_subsection", "line_note"):
                kind = "note" if line.display_type == "line_note" else "section"
                result.append(self._prepare_line(kind, line.name))
            elif line.display_type in (False, "product") and not skip(line):
                result.append(
                    self._prepare_line(
                        "product",
                        line.name or line.product_id.display_name,
                        quantity=line[quantity_field],
                        uom=line.product_uom_id.name if line.product_uom_id else "",
                        price_unit=line.price_unit,
                        discount=line.discount,
                        taxes=self._taxes_label(line.tax_ids),
                        subtotal=line.price_subtotal,
                    )
                )
        return result


class ReportCrmBillingInvoice(models.AbstractModel):
    _name = "report.crm_billing.report_invoice"
    _inherit = "crm.billing.document.report"
    _description = "CRM Billing Invoice"

    _document_model = "account.move"

    @api.model
    def _get_report_values(self, docids, data=None):
        values = self._get_common_values(docids, data)
        invoices = values["docs"]
        not_invoices = invoices.filtered(lambda m: not m.is_sale_document(include_receipts=False))
        if not_invoices:
            raise UserError(
                _(
                    "Only customer invoices and credit notes can be printed with this report: %s",
                    ", ".join(not_invoices.mapped("display_name")),
                )
            )
        self._check_addresses(invoices, lambda m: m.partner_id, _("invoice"))
        return values

    @api.model
    def _get_lines(self, invoice):
        return self._prepare_document_lines(invoice.invoice_line_ids, "quantity")


class ReportCrmBillingEstimate(models.AbstractModel):
    _name = "report.crm_billing.report_estimate"
    _inherit = "crm.billing.document.report"
    _description = "CRM Billing Estimate"

    _document_model = "sale.order"

    @api.model
    def _get_report_values(self, docids, data=None):
        values = self._get_common_values(docids, data)
        self._check_addresses(values["docs"], lambda o: o.partner_invoice_id, _("estimate"))
        return values

    @api.model
    def _get_lines(self, order):
        return self._prepare_document_lines(
            order.order_line, "product_uom_qty", skip=lambda line: line.is_downpayment
        )


class ReportCrmBillingReceipt(models.AbstractModel):
    _name = "report.crm_billing.report_receipt"
    _inherit = "crm.billing.document.report"
    _description = "CRM Billing Receipt"

    _document_model = "account.payment"

    @api.model
    def _get_report_values(self, docids, data=None):
        values = self._get_common_values(docids, data)
        payments = values["docs"]
        payments._crm_billing_check_receipt_printable()
        if (data or {}).get("report_type", "pdf") == "pdf":
            # a print: the first numbers the receipt, later ones are copies
            payments._crm_billing_register_receipt_print()
        return values
