# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import http
from odoo.http import request
from odoo.tools import format_amount, format_date


class CrmBillingReceiptVerify(http.Controller):
    """The public page where anyone holding a receipt checks that it is genuine.

    It answers for the full verification code only, and says no more than the
    receipt itself shows: number, date, amount and issuer. Never the customer nor
    the invoices, and nothing that tells a wrong code from an unknown one."""

    @http.route(
        ["/billing/receipt/verify", "/billing/receipt/verify/<string:code>"],
        type="http",
        auth="public",
        methods=["GET"],
        sitemap=False,
        readonly=True,
    )
    def receipt_verify(self, code=None, **kwargs):
        code = code or kwargs.get("code") or ""
        values = self._receipt_verify_values(code)
        status = 404 if code and not values["genuine"] else 200
        response = request.render("crm_billing.receipt_verify_page", values, status=status)
        response.headers["X-Robots-Tag"] = "noindex, nofollow"
        response.headers["Cache-Control"] = "no-store"
        response.headers["Referrer-Policy"] = "no-referrer"
        return response

    def _receipt_verify_values(self, code):
        """Plain strings for the page, never records, so the template cannot leak
        more than these facts."""
        env = request.env
        values = {"submitted": bool(code), "genuine": False, "code": code}
        payment = code and env["account.payment"].sudo()._crm_billing_find_genuine_receipt(code)
        if payment:
            values.update(
                {
                    "genuine": True,
                    "number": payment.receipt_number,
                    "date": format_date(env, payment.date),
                    "amount": format_amount(env, payment.amount, payment.currency_id),
                    "issuer": payment.company_id.name,
                }
            )
        # the page wears the look of the issuer of a genuine receipt, else of the
        # company that serves the page: nothing about an unknown code is revealed
        company = payment.company_id if payment else env.company
        values.update(
            {
                "company_id": company.id,
                "company_name": company.name,
                "primary_color": company.primary_color or "#714B67",
            }
        )
        return values
