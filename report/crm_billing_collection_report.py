# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models
from odoo.tools import SQL


class CrmBillingCollectionReport(models.Model):
    """How automatic charges collect: one row per invoice that was charged.

    Its collection rate is 100 for an invoice that a charge paid, 0 otherwise, so
    that its average is the share of charged invoices collected; what later
    attempts collected after a failed one is the amount recovered by retries."""

    _name = "crm.billing.collection.report"
    _description = "Payment Collection Analysis"
    _auto = False
    _order = "date desc, id desc"
    _rec_name = "invoice_id"

    invoice_id = fields.Many2one("account.move", string="Invoice", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    schedule_id = fields.Many2one("crm.billing.schedule", string="Schedule", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    date = fields.Date(string="First Attempt", readonly=True)
    state = fields.Selection(
        [
            ("collected", "Collected"),
            ("pending", "Pending"),
            ("retrying", "Retrying"),
            ("exhausted", "Left to Reminders"),
            ("cancelled", "Not Charged"),
        ],
        readonly=True,
    )
    attempt_count = fields.Integer(string="Attempts", readonly=True)
    amount_charged = fields.Monetary(string="Charged", readonly=True)
    amount_collected = fields.Monetary(string="Collected", readonly=True)
    amount_recovered = fields.Monetary(string="Recovered by Retries", readonly=True)
    collection_rate = fields.Float(
        string="Collection Rate (%)",
        readonly=True,
        aggregator="avg",
        help="100 for an invoice a charge paid, 0 otherwise; its average is the share "
        "of charged invoices collected.",
    )
    last_failure_reason = fields.Char(readonly=True)
    invoice_count = fields.Integer(string="Invoices", readonly=True)

    _depends = {
        "crm.billing.charge": [
            "invoice_id",
            "company_id",
            "partner_id",
            "schedule_id",
            "currency_id",
            "date",
            "state",
            "attempt",
            "amount",
            "amount_collected",
            "amount_recovered",
            "failure_reason",
            "is_last_attempt",
        ],
    }

    @property
    def _table_query(self):
        return SQL(
            """
            SELECT
                charge.invoice_id AS id,
                charge.invoice_id AS invoice_id,
                MAX(charge.partner_id) AS partner_id,
                MAX(charge.schedule_id) AS schedule_id,
                MAX(charge.company_id) AS company_id,
                MAX(charge.currency_id) AS currency_id,
                MIN(charge.date)::date AS date,
                CASE
                    WHEN bool_or(charge.state = 'done') THEN 'collected'
                    WHEN bool_or(charge.state = 'pending') THEN 'pending'
                    WHEN bool_or(charge.is_last_attempt) THEN 'exhausted'
                    WHEN bool_and(charge.state = 'cancelled') THEN 'cancelled'
                    ELSE 'retrying'
                END AS state,
                COUNT(*) FILTER (WHERE charge.state != 'cancelled') AS attempt_count,
                (ARRAY_AGG(charge.amount ORDER BY charge.attempt))[1] AS amount_charged,
                COALESCE(SUM(charge.amount_collected), 0) AS amount_collected,
                COALESCE(SUM(charge.amount_recovered), 0) AS amount_recovered,
                CASE WHEN bool_or(charge.state = 'done') THEN 100.0 ELSE 0.0 END
                    AS collection_rate,
                (ARRAY_AGG(charge.failure_reason ORDER BY charge.attempt DESC)
                    FILTER (WHERE charge.state = 'failed'))[1] AS last_failure_reason,
                1 AS invoice_count
            FROM crm_billing_charge charge
            GROUP BY charge.invoice_id
            """
        )
