# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models
from odoo.tools import SQL


class CrmBillingPaymentReport(models.Model):
    """How customers pay: one row per paid customer invoice.

    An invoice is paid on the day its last payment matched it: the latest
    ``max_date`` of the partial reconciliations on its receivable lines (the date
    account's aged reports use), or, for payments matched without a journal entry
    of their own, the latest of their dates. Compared with the invoice's due date
    it gives the days paid late (0 when on time or early) and whether it was paid
    on time; averaged by customer they describe its payment behaviour."""

    _name = "crm.billing.payment.report"
    _description = "Payment Behaviour Analysis"
    _auto = False
    _order = "date_paid desc, id desc"
    _rec_name = "move_id"

    move_id = fields.Many2one("account.move", string="Invoice", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    user_id = fields.Many2one("res.users", string="Salesperson", readonly=True)
    billing_schedule_id = fields.Many2one("crm.billing.schedule", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    invoice_date = fields.Date(readonly=True)
    invoice_date_due = fields.Date(string="Due Date", readonly=True)
    date_paid = fields.Date(string="Paid On", readonly=True)
    days_to_pay = fields.Integer(
        string="Days to Pay", readonly=True, aggregator="avg", help="From invoice date to payment."
    )
    days_late = fields.Float(
        readonly=True,
        aggregator="avg",
        help="Days paid after the due date; 0 when paid on time or early.",
    )
    on_time_rate = fields.Float(
        string="On Time (%)",
        readonly=True,
        aggregator="avg",
        help="100 for an invoice paid by its due date, 0 otherwise; its average is the "
        "share of invoices paid on time.",
    )
    amount_total = fields.Monetary(string="Total", readonly=True)
    invoice_count = fields.Integer(string="Invoices", readonly=True)

    _depends = {
        "account.move": [
            "move_type",
            "state",
            "payment_state",
            "commercial_partner_id",
            "invoice_user_id",
            "billing_schedule_id",
            "company_id",
            "invoice_date",
            "invoice_date_due",
            "amount_total_signed",
            "matched_payment_ids",
        ],
        "account.move.line": ["move_id", "account_id", "matched_credit_ids"],
        "account.partial.reconcile": ["debit_move_id", "max_date"],
        "account.account": ["account_type"],
        "account.payment": ["date", "state"],
    }

    @property
    def _table_query(self):
        return SQL(
            """
            SELECT
                move.id AS id,
                move.id AS move_id,
                move.commercial_partner_id AS partner_id,
                move.invoice_user_id AS user_id,
                move.billing_schedule_id AS billing_schedule_id,
                move.company_id AS company_id,
                company.currency_id AS currency_id,
                move.invoice_date AS invoice_date,
                due.day AS invoice_date_due,
                paid.day AS date_paid,
                paid.day - COALESCE(move.invoice_date, move.date) AS days_to_pay,
                GREATEST(paid.day - due.day, 0) AS days_late,
                CASE WHEN paid.day <= due.day THEN 100.0 ELSE 0.0 END AS on_time_rate,
                move.amount_total_signed AS amount_total,
                1 AS invoice_count
            FROM account_move move
            JOIN res_company company ON company.id = move.company_id
            CROSS JOIN LATERAL (
                SELECT COALESCE(move.invoice_date_due, move.invoice_date, move.date) AS day
            ) due
            CROSS JOIN LATERAL (
                SELECT COALESCE(
                    (SELECT MAX(part.max_date)
                       FROM account_move_line aml
                       JOIN account_account account ON account.id = aml.account_id
                       JOIN account_partial_reconcile part ON part.debit_move_id = aml.id
                      WHERE aml.move_id = move.id
                        AND account.account_type = 'asset_receivable'),
                    (SELECT MAX(pay.date)
                       FROM account_move__account_payment rel
                       JOIN account_payment pay ON pay.id = rel.payment_id
                      WHERE rel.invoice_id = move.id
                        AND pay.state IN ('in_process', 'paid'))
                ) AS day
            ) paid
            WHERE move.move_type = 'out_invoice'
              AND move.state = 'posted'
              AND move.payment_state IN ('paid', 'in_payment')
              AND paid.day IS NOT NULL
            """
        )
