# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models
from odoo.tools import SQL

from .crm_billing_mrr_report import CrmBillingMrrReport


class CrmBillingMrrMovementReport(models.Model):
    """How each customer's MRR moved from one month to the next.

    One row per customer, company and month, from the customer's first month of
    recurring revenue to the month after its last (the month it churned), never
    past the current month. This is where a movement is defined (the dashboards'
    ``crm.billing.mrr.report._get_mrr_movements`` sums these rows): from nothing
    is new, up is expansion, down is contraction, to nothing is churn."""

    _name = "crm.billing.mrr.movement.report"
    _description = "Recurring Revenue Movements"
    _auto = False
    _order = "month desc, partner_id"
    _rec_name = "month"

    month = fields.Date(readonly=True)
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    # levels, not movements: a month's MRR added to the next month's means nothing,
    # so they have no aggregate (the movements below add up across months)
    mrr = fields.Monetary(string="MRR", readonly=True, aggregator=None)
    previous_mrr = fields.Monetary(string="MRR the Month Before", readonly=True, aggregator=None)
    new_mrr = fields.Monetary(string="New MRR", readonly=True)
    expansion_mrr = fields.Monetary(string="Expansion MRR", readonly=True)
    contraction_mrr = fields.Monetary(string="Contraction MRR", readonly=True)
    churned_mrr = fields.Monetary(string="Churned MRR", readonly=True)
    net_new_mrr = fields.Monetary(string="Net New MRR", readonly=True)
    is_new = fields.Boolean(string="New Customer", readonly=True)
    is_churned = fields.Boolean(string="Churned Customer", readonly=True)
    close_reason_id = fields.Many2one(
        "crm.billing.close.reason",
        string="Churn Reason",
        readonly=True,
        help="Churned customers: the reason their last schedule was closed for.",
    )

    _depends = {
        **CrmBillingMrrReport._depends,
        "crm.billing.schedule": [
            *CrmBillingMrrReport._depends["crm.billing.schedule"],
            "close_reason_id",
            "close_date",
        ],
    }

    @property
    def _table_query(self):
        today = fields.Date.context_today(self)
        mrr_query = self.env["crm.billing.mrr.report"]._mrr_query(today)
        return SQL(
            """
            WITH customer_month AS (
                SELECT partner_id, company_id, currency_id, month, SUM(mrr) AS mrr
                  FROM (%(mrr_query)s) mrr_rows
                 GROUP BY partner_id, company_id, currency_id, month
            ), span AS (
                SELECT partner_id, company_id, currency_id, MIN(month) AS first_month, MAX(month) AS last_month
                  FROM customer_month
                 GROUP BY partner_id, company_id, currency_id
            ), grid AS (
                SELECT span.partner_id, span.company_id, span.currency_id, months.month::date AS month
                  FROM span
                 CROSS JOIN LATERAL generate_series(
                    span.first_month,
                    LEAST(span.last_month + interval '1 month', date_trunc('month', %(today)s::date)),
                    interval '1 month'
                 ) AS months(month)
            ), moves AS (
                SELECT grid.partner_id, grid.company_id, grid.currency_id, grid.month,
                       COALESCE(cm.mrr, 0) AS mrr,
                       COALESCE(LAG(cm.mrr) OVER (
                           PARTITION BY grid.partner_id, grid.company_id ORDER BY grid.month
                       ), 0) AS previous_mrr
                  FROM grid
                  LEFT JOIN customer_month cm
                    ON cm.partner_id = grid.partner_id AND cm.company_id = grid.company_id
                   AND cm.month = grid.month
            )
            SELECT
                ROW_NUMBER() OVER (ORDER BY month, company_id, partner_id) AS id,
                partner_id, company_id, currency_id, month, mrr, previous_mrr,
                CASE WHEN previous_mrr = 0 AND mrr > 0 THEN mrr ELSE 0 END AS new_mrr,
                CASE WHEN previous_mrr > 0 AND mrr > previous_mrr THEN mrr - previous_mrr ELSE 0 END
                    AS expansion_mrr,
                CASE WHEN previous_mrr > 0 AND mrr > 0 AND mrr < previous_mrr THEN previous_mrr - mrr ELSE 0 END
                    AS contraction_mrr,
                CASE WHEN previous_mrr > 0 AND mrr = 0 THEN previous_mrr ELSE 0 END AS churned_mrr,
                mrr - previous_mrr AS net_new_mrr,
                previous_mrr = 0 AND mrr > 0 AS is_new,
                previous_mrr > 0 AND mrr = 0 AS is_churned,
                churn_reason.close_reason_id AS close_reason_id
            FROM moves
            LEFT JOIN LATERAL (
                SELECT s.close_reason_id
                  FROM crm_billing_schedule s
                 WHERE s.commercial_partner_id = moves.partner_id
                   AND s.company_id = moves.company_id
                   AND s.close_reason_id IS NOT NULL
                   AND s.close_date < moves.month + interval '1 month'
                 ORDER BY s.close_date DESC, s.id DESC
                 LIMIT 1
            ) churn_reason ON moves.previous_mrr > 0 AND moves.mrr = 0
            """,
            mrr_query=mrr_query,
            today=today,
        )
