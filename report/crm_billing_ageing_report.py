# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models
from odoo.tools import SQL

AGEING_BUCKETS = [
    ("current", "Not Due"),
    ("1_30", "1-30 Days"),
    ("31_60", "31-60 Days"),
    ("61_90", "61-90 Days"),
    ("90_plus", "Over 90 Days"),
]


class CrmBillingAgeingReport(models.Model):
    """What customers owe, by how long it is overdue.

    One row per open receivable journal item of a posted customer invoice, with its
    residual amount in company currency, put in one ageing bucket by days past its
    due date as of today: not yet due (or due today), 1-30, 31-60, 61-90, over 90
    days. Credit notes, unmatched payments and miscellaneous entries are not debts
    that age, and what is not due yet counts zero days overdue, never fewer. Each bucket also has its own
    amount column, so a pivot by customer shows the classic ageing table."""

    _name = "crm.billing.ageing.report"
    _description = "Overdue Ageing Analysis"
    _auto = False
    _order = "date_maturity, id"
    _rec_name = "move_id"

    move_id = fields.Many2one("account.move", string="Journal Entry", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    user_id = fields.Many2one("res.users", string="Salesperson", readonly=True)
    billing_schedule_id = fields.Many2one("crm.billing.schedule", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    date = fields.Date(readonly=True)
    date_maturity = fields.Date(string="Due Date", readonly=True)
    days_overdue = fields.Integer(readonly=True, aggregator="max")
    bucket = fields.Selection(AGEING_BUCKETS, string="Ageing", readonly=True)
    amount_residual = fields.Monetary(string="Amount Due", readonly=True)
    amount_overdue = fields.Monetary(string="Overdue", readonly=True)
    amount_current = fields.Monetary(string="Not Due", readonly=True)
    amount_1_30 = fields.Monetary(string="1-30", readonly=True)
    amount_31_60 = fields.Monetary(string="31-60", readonly=True)
    amount_61_90 = fields.Monetary(string="61-90", readonly=True)
    amount_90_plus = fields.Monetary(string="90+", readonly=True)

    _depends = {
        "account.move.line": [
            "move_id",
            "partner_id",
            "company_id",
            "company_currency_id",
            "account_id",
            "date",
            "date_maturity",
            "amount_residual",
            "reconciled",
            "parent_state",
        ],
        "account.move": ["state", "move_type", "invoice_user_id", "billing_schedule_id"],
        "account.account": ["account_type"],
        "res.partner": ["commercial_partner_id"],
    }

    @property
    def _table_query(self):
        today = fields.Date.context_today(self)
        return SQL(
            """
            SELECT
                aml.id AS id,
                aml.move_id AS move_id,
                COALESCE(partner.commercial_partner_id, aml.partner_id) AS partner_id,
                move.invoice_user_id AS user_id,
                move.billing_schedule_id AS billing_schedule_id,
                aml.company_id AS company_id,
                aml.company_currency_id AS currency_id,
                aml.date AS date,
                COALESCE(aml.date_maturity, aml.date) AS date_maturity,
                age.days AS days_overdue,
                age.bucket AS bucket,
                aml.amount_residual AS amount_residual,
                CASE WHEN age.days > 0 THEN aml.amount_residual ELSE 0 END AS amount_overdue,
                CASE WHEN age.bucket = 'current' THEN aml.amount_residual ELSE 0 END AS amount_current,
                CASE WHEN age.bucket = '1_30' THEN aml.amount_residual ELSE 0 END AS amount_1_30,
                CASE WHEN age.bucket = '31_60' THEN aml.amount_residual ELSE 0 END AS amount_31_60,
                CASE WHEN age.bucket = '61_90' THEN aml.amount_residual ELSE 0 END AS amount_61_90,
                CASE WHEN age.bucket = '90_plus' THEN aml.amount_residual ELSE 0 END AS amount_90_plus
            FROM account_move_line aml
            JOIN account_move move ON move.id = aml.move_id
            JOIN account_account account ON account.id = aml.account_id
            LEFT JOIN res_partner partner ON partner.id = aml.partner_id
            CROSS JOIN LATERAL (
                SELECT GREATEST(%(today)s::date - COALESCE(aml.date_maturity, aml.date), 0) AS days
            ) overdue
            CROSS JOIN LATERAL (
                SELECT overdue.days AS days,
                       CASE WHEN overdue.days <= 0 THEN 'current'
                            WHEN overdue.days <= 30 THEN '1_30'
                            WHEN overdue.days <= 60 THEN '31_60'
                            WHEN overdue.days <= 90 THEN '61_90'
                            ELSE '90_plus'
                       END AS bucket
            ) age
            WHERE move.state = 'posted'
              AND move.move_type = 'out_invoice'
              AND account.account_type = 'asset_receivable'
              AND NOT aml.reconciled
              AND aml.amount_residual != 0
            """,
            today=today,
        )
