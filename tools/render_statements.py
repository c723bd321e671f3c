# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Render an example customer statement to PNG for the README
(static/description/statement_<style>.png).

Run inside ``odoo-bin shell`` on a database where crm_billing is installed, while
an Odoo server for the same database is listening (wkhtmltopdf fetches the report
stylesheets from it)::

    odoo-bin shell -d DB --addons-path=... --no-http < tools/render_statements.py

The activity statement is drawn in each of crm_billing's document layouts
(``crm_billing.report_layout_<style>``) that exist, else in the company's current
layout; the outstanding statement once. Environment: ``CB_REPORT_URL`` (default
http://127.0.0.1:8170), ``CB_RENDER_OUT`` (default static/description). The sample
data is created in the shell's transaction and rolled back at the end.
"""

import logging
import os
import subprocess
import tempfile
from datetime import date

from odoo import Command

_logger = logging.getLogger("crm_billing.render_statements")
env = env  # noqa: F821  (provided by odoo-bin shell)

HERE = os.path.dirname(os.path.abspath(__file__)) if "__file__" in globals() else None
OUT = os.environ.get("CB_RENDER_OUT") or os.path.join(
    HERE or "/opt/cb_addons/crm_billing/tools", "..", "static", "description"
)
REPORT_URL = os.environ.get("CB_REPORT_URL", "http://127.0.0.1:8170")
STYLES = ("classic", "modern", "compact")
REPORT = "crm_billing.action_report_statement"


def sample_data(env):
    company = env.company
    company.write(
        {
            "name": "Northwind Analytics",
            "street": "12 Harbour Road",
            "city": "Bristol",
            "zip": "BS1 5TY",
            "country_id": env.ref("base.uk").id,
            "email": "billing@northwind.example.com",
            "state_id": False,
        }
    )
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


def render_png(env, customer, data, out_png):
    pdf, _fmt = (
        env["ir.actions.report"]
        .with_context(force_report_rendering=True)
        ._render_qweb_pdf(REPORT, customer.ids, data=dict(data))
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


def warm_report_assets(env):
    for bundle in ("web.report_assets_common", "web.report_assets_pdf"):
        for autoprefix in (False, True):
            env["ir.qweb"]._get_asset_bundle(
                bundle, css=True, js=False, autoprefix=autoprefix
            ).css()
    env["ir.config_parameter"].sudo().set_param("report.url", REPORT_URL)
    env.cr.commit()


def main(env):
    os.makedirs(OUT, exist_ok=True)
    warm_report_assets(env)
    customer = sample_data(env)
    activity = {"statement_type": "activity", "date_from": "2027-02-01", "date_to": "2027-03-31"}
    outstanding = {"statement_type": "outstanding", "date_to": "2027-03-31"}
    layouts = [
        (style, env.ref(f"crm_billing.report_layout_{style}", raise_if_not_found=False))
        for style in STYLES
    ]
    layouts = [(style, layout) for style, layout in layouts if layout]
    company = env.company
    if not company.external_report_layout_id:
        company.external_report_layout_id = env.ref("web.external_layout_standard")
    if layouts:
        for style, layout in layouts:
            company.external_report_layout_id = layout.view_id
            if "billing_document_style" in company._fields:
                company.billing_document_style = style
            render_png(env, customer, activity, os.path.join(OUT, f"statement_{style}.png"))
    else:
        render_png(env, customer, activity, os.path.join(OUT, "statement_activity.png"))
    render_png(env, customer, outstanding, os.path.join(OUT, "statement_outstanding.png"))


try:
    main(env)
finally:
    env.cr.rollback()
