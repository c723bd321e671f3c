# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Render crm_billing's documents to PNG for the README (static/description/).

- ``documents``: the invoice, the estimate and the receipt in each of crm_billing's
  document layouts (``<document>_<style>.png``). They are Odoo's own documents
  (account.account_invoices, the quotation, the payment receipt) with crm_billing's
  additions, in the layout chosen in Settings > Document Layout.
- ``statements``: the activity statement in each of those layouts
  (``statement_<style>.png``) and the outstanding statement once
  (``statement_outstanding.png``).

Run inside ``odoo-bin shell`` on a database where crm_billing is installed, while
an Odoo server for the same database is listening (wkhtmltopdf fetches the report
stylesheets from it)::

    CB_RENDER=documents,statements odoo-bin shell -d DB --addons-path=... --no-http \
        < tools/render_documents.py

Environment: ``CB_RENDER``, what to draw (``documents``, ``statements`` or both,
comma-separated; default ``documents``); ``CB_REPORT_URL`` (default
http://127.0.0.1:8170), the server wkhtmltopdf reads the stylesheets from;
``CB_RENDER_OUT`` (default static/description next to this file), where the PNGs
go; ``CB_KEEP_PDF``, keep the documents' PDFs beside their PNGs. The sample data is
created in the shell's transaction and rolled back at the end.
"""

import logging
import os
import subprocess
import tempfile
from datetime import date

from odoo import Command

_logger = logging.getLogger("crm_billing.render_documents")
env = env  # noqa: F821  (provided by odoo-bin shell)

HERE = os.path.dirname(os.path.abspath(__file__)) if "__file__" in globals() else None
OUT = os.environ.get("CB_RENDER_OUT") or os.path.join(
    HERE or "/opt/cb_addons/crm_billing/tools", "..", "static", "description"
)
REPORT_URL = os.environ.get("CB_REPORT_URL", "http://127.0.0.1:8170")
STYLES = ("classic", "modern", "compact")
STATEMENT_REPORT = "crm_billing.action_report_statement"
WHAT = {part.strip() for part in os.environ.get("CB_RENDER", "documents").split(",")}


def sample_company(env):
    """The company that issues the sample documents."""
    # the receipt's verification address, as a customer would see it
    env["ir.config_parameter"].sudo().set_param("web.base.url", "https://erp.northwind.example.com")
    company = env.company
    company.write(
        {
            "name": "Northwind Analytics",
            "street": "12 Harbour Road",
            "city": "Bristol",
            "zip": "BS1 5TY",
            "country_id": env.ref("base.uk").id,
            "phone": "+44 117 496 0000",
            "email": "billing@northwind.example.com",
            "website": "https://northwind.example.com",
            "state_id": False,
            "vat": "GB123456789",
        }
    )


def sample_data(env):
    """An invoice of a running schedule, a quotation and a payment of the invoice."""
    company = env.company
    customer = env["res.partner"].create(
        {
            "name": "Marlowe Consulting Ltd",
            "is_company": True,
            "street": "1 Quay Street",
            "street2": "Suite 4",
            "city": "Cork",
            "zip": "T12 X70A",
            "country_id": env.ref("base.ie").id,
            "vat": "IE6388047V",
            "email": "accounts@marlowe.example.com",
            "lang": "en_US",
        }
    )
    tax_group = env["account.tax.group"].create({"name": "VAT 20%", "company_id": company.id})
    tax = env["account.tax"].create(
        {
            "name": "VAT 20%",
            "tax_group_id": tax_group.id,
            "amount": 20.0,
            "amount_type": "percent",
            "type_tax_use": "sale",
            "company_id": company.id,
        }
    )
    Product = env["product.product"]
    support = Product.create(
        {
            "name": "Premium support subscription",
            "list_price": 450.0,
            "taxes_id": [Command.set(tax.ids)],
        }
    )
    hosting = Product.create(
        {
            "name": "Managed hosting (3 nodes)",
            "list_price": 210.0,
            "taxes_id": [Command.set(tax.ids)],
        }
    )
    training = Product.create(
        {"name": "On-site training day", "list_price": 780.0, "taxes_id": [Command.set(tax.ids)]}
    )
    term = env.ref("account.account_payment_term_30days")
    admin = env.ref("base.user_admin")

    schedule = env["crm.billing.schedule"].create(
        {
            "partner_id": customer.id,
            "rule_type": "monthly",
            "interval": 1,
            "date_start": date(2027, 3, 1),
            "auto_post": True,
            "payment_term_id": term.id,
            "user_id": admin.id,
            "line_ids": [
                Command.create(
                    {
                        "product_id": support.id,
                        "name": "Premium support subscription",
                        "quantity": 1,
                        "price_unit": 450.0,
                        "tax_ids": [Command.set(tax.ids)],
                    }
                ),
                Command.create(
                    {
                        "product_id": hosting.id,
                        "name": "Managed hosting (3 nodes)",
                        "quantity": 3,
                        "price_unit": 210.0,
                        "discount": 10.0,
                        "tax_ids": [Command.set(tax.ids)],
                    }
                ),
            ],
        }
    )
    schedule.action_start()
    invoice = schedule._generate_invoices(today=date(2027, 3, 5))[:1]
    if invoice.state == "draft":
        invoice.action_post()

    order = env["sale.order"].create(
        {
            "partner_id": customer.id,
            "date_order": "2027-03-02 10:00:00",
            "validity_date": date(2027, 4, 1),
            "payment_term_id": term.id,
            "client_order_ref": "PO-7781",
            "user_id": admin.id,
            "note": "Prices include remote onboarding. Travel expenses are invoiced at cost.",
            "order_line": [
                Command.create({"display_type": "line_section", "name": "Onboarding"}),
                Command.create(
                    {
                        "product_id": training.id,
                        "product_uom_qty": 2,
                        "tax_ids": [Command.set(tax.ids)],
                    }
                ),
                Command.create({"display_type": "line_section", "name": "Subscription (monthly)"}),
                Command.create(
                    {
                        "product_id": support.id,
                        "product_uom_qty": 1,
                        "tax_ids": [Command.set(tax.ids)],
                    }
                ),
                Command.create(
                    {
                        "product_id": hosting.id,
                        "product_uom_qty": 3,
                        "discount": 10.0,
                        "tax_ids": [Command.set(tax.ids)],
                    }
                ),
            ],
        }
    )

    payment = (
        env["account.payment.register"]
        .with_context(active_model="account.move", active_ids=invoice.ids)
        .create({"amount": 1000.0, "payment_date": date(2027, 3, 20)})
        ._create_payments()
    )
    return invoice, order, payment


def statement_sample_data(env):
    """A customer with invoices, a credit note and payments, some in another currency."""
    customer = env["res.partner"].create(
        {
            "name": "Marlowe Consulting Ltd",
            "is_company": True,
            "ref": "MC-001",
            "street": "1 Quay Street",
            "city": "Cork",
            "zip": "T12 X70A",
            "country_id": env.ref("base.ie").id,
            "email": "accounts@marlowe.example.com",
            "lang": "en_US",
        }
    )
    term = env.ref("account.account_payment_term_30days")

    def invoice(day, price, move_type="out_invoice", ref=False):
        move = env["account.move"].create(
            {
                "move_type": move_type,
                "partner_id": customer.id,
                "invoice_date": day,
                "ref": ref,
                "invoice_payment_term_id": term.id if move_type == "out_invoice" else False,
                "invoice_line_ids": [
                    Command.create(
                        {"name": "Premium support subscription", "quantity": 1, "price_unit": price}
                    )
                ],
            }
        )
        move.action_post()
        return move

    def pay(moves, amount, day, currency=None):
        vals = {"amount": amount, "payment_date": day}
        if currency:
            vals["currency_id"] = currency.id
        env["account.payment.register"].with_context(
            active_model="account.move", active_ids=moves.ids
        ).create(vals)._create_payments()

    invoice(date(2026, 12, 15), 480.0, ref="PO-7702")
    first = invoice(date(2027, 1, 10), 1150.0, ref="PO-7781")
    second = invoice(date(2027, 2, 5), 575.0)
    third = invoice(date(2027, 3, 1), 230.0)
    pay(first, 400.0, date(2027, 2, 10))
    refund = invoice(date(2027, 2, 20), 115.0, move_type="out_refund", ref="Returned licence")
    (second | refund).line_ids.filtered(
        lambda line: line.account_type == "asset_receivable"
    ).reconcile()
    eur = env.ref("base.EUR")
    eur.active = True
    if not eur.rate_ids:
        env["res.currency.rate"].create({"currency_id": eur.id, "name": "2027-01-01", "rate": 1.16})
    pay(first, 300.0, date(2027, 3, 5), currency=eur)
    pay(third, 50.0, date(2027, 3, 20))
    return customer


def render_png(env, report_ref, record, out_png, data=None):
    """Render ``report_ref`` of ``record`` to PDF and its first page to ``out_png``;
    returns the PDF."""
    pdf, _fmt = (
        env["ir.actions.report"]
        .with_context(force_report_rendering=True)
        ._render_qweb_pdf(report_ref, record.ids, data=dict(data) if data else None)
    )
    with tempfile.TemporaryDirectory() as tmp:
        pdf_path = os.path.join(tmp, "doc.pdf")
        with open(pdf_path, "wb") as f:
            f.write(pdf)
        stem = os.path.join(tmp, "page")
        subprocess.run(
            ["pdftoppm", "-r", "60", "-png", "-f", "1", "-l", "1", "-singlefile", pdf_path, stem],
            check=True,
        )
        with open(stem + ".png", "rb") as src, open(out_png, "wb") as dst:
            dst.write(src.read())
    _logger.info("%s: %s bytes", out_png, os.path.getsize(out_png))
    return pdf


def warm_report_assets(env):
    """Generate the report stylesheets and commit them before any sample data is
    written: the server wkhtmltopdf reads them from must not have to create them
    while this transaction holds locks on the rows they refer to."""
    for bundle in ("web.report_assets_common", "web.report_assets_pdf"):
        for autoprefix in (False, True):
            env["ir.qweb"]._get_asset_bundle(
                bundle, css=True, js=False, autoprefix=autoprefix
            ).css()
    env["ir.config_parameter"].sudo().set_param("report.url", REPORT_URL)
    env.cr.commit()


def render_documents(env):
    invoice, order, payment = sample_data(env)
    documents = [
        ("invoice", "account.account_invoices", invoice),
        ("estimate", "crm_billing.action_report_estimate", order),
        ("receipt", "account.action_report_payment_receipt", payment),
    ]
    for style in STYLES:
        env.company.external_report_layout_id = env.ref(f"crm_billing.external_layout_{style}")
        # each style shows an original receipt, not a copy of the previous print
        payment.sudo().receipt_print_count = 0
        for name, report_ref, record in documents:
            out_png = os.path.join(OUT, f"{name}_{style}.png")
            pdf = render_png(env, report_ref, record, out_png)
            if os.environ.get("CB_KEEP_PDF"):
                with open(out_png[:-4] + ".pdf", "wb") as f:
                    f.write(pdf)


def render_statements(env):
    customer = statement_sample_data(env)
    activity = {"statement_type": "activity", "date_from": "2027-02-01", "date_to": "2027-03-31"}
    outstanding = {"statement_type": "outstanding", "date_to": "2027-03-31"}
    for style in STYLES:
        env.company.external_report_layout_id = env.ref(f"crm_billing.external_layout_{style}")
        out_png = os.path.join(OUT, f"statement_{style}.png")
        render_png(env, STATEMENT_REPORT, customer, out_png, data=activity)
    out_png = os.path.join(OUT, "statement_outstanding.png")
    render_png(env, STATEMENT_REPORT, customer, out_png, data=outstanding)


def main(env):
    unknown = WHAT - {"documents", "statements"}
    if unknown:
        raise SystemExit(f"CB_RENDER: unknown {', '.join(sorted(unknown))}")
    os.makedirs(OUT, exist_ok=True)
    warm_report_assets(env)
    sample_company(env)
    if "documents" in WHAT:
        render_documents(env)
    if "statements" in WHAT:
        render_statements(env)


try:
    main(env)
finally:
    env.cr.rollback()
