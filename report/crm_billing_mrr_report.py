# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.fields import Domain
from odoo.tools import SQL

from ..models.billing_period_math import RULE_TYPE_SELECTION, monthly_factor_sql


class CrmBillingMrrReport(models.Model):
    """Monthly recurring revenue, one row per schedule line and month it ran.

    A recurring schedule counts in a month when it is running on the month's last
    day (on today for the current month). It runs from its start date until its end
    date; a paused, done or cancelled schedule stops at the end of its last invoiced
    period (or its end date, if earlier). Amounts are the line's untaxed subtotal
    brought to a month, rounded to the cent and converted to company currency at
    the rate of that day. No row lies in the future: today is the last day shown.
    """

    _name = "crm.billing.mrr.report"
    _description = "Recurring Revenue Analysis"
    _auto = False
    _order = "month desc, partner_id"
    _rec_name = "month"

    month = fields.Date(readonly=True, help="First day of the month.")
    line_id = fields.Many2one("crm.billing.schedule.line", string="Schedule Line", readonly=True)
    schedule_id = fields.Many2one("crm.billing.schedule", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    user_id = fields.Many2one("res.users", string="Salesperson", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    product_id = fields.Many2one("product.product", readonly=True)
    product_tmpl_id = fields.Many2one("product.template", string="Product Template", readonly=True)
    product_categ_id = fields.Many2one("product.category", string="Product Category", readonly=True)
    rule_type = fields.Selection(
        RULE_TYPE_SELECTION,
        string="Recurrence",
        readonly=True,
    )
    schedule_state = fields.Selection(
        [
            ("running", "Running"),
            ("paused", "Paused"),
            ("done", "Done"),
            ("cancelled", "Cancelled"),
        ],
        string="Schedule Status",
        readonly=True,
    )
    mrr = fields.Monetary(string="MRR", readonly=True, aggregator="sum")
    arr = fields.Monetary(string="ARR", readonly=True, aggregator="sum")

    _depends = {
        "crm.billing.schedule": [
            "state",
            "schedule_type",
            "rule_type",
            "interval",
            "date_start",
            "date_end",
            "commercial_partner_id",
            "user_id",
            "company_id",
            "currency_id",
        ],
        "crm.billing.schedule.line": ["schedule_id", "product_id", "price_subtotal"],
        "crm.billing.period": ["schedule_id", "date_end"],
        "crm.billing.change": ["line_id", "date", "old_subtotal", "new_subtotal"],
        "res.currency.rate": ["currency_id", "company_id", "name", "rate"],
        "product.product": ["product_tmpl_id"],
        "product.template": ["categ_id"],
    }

    @property
    def _table_query(self):
        return self._mrr_query(fields.Date.context_today(self))

    @api.model
    def _mrr_stop_sql(self):
        """The last day a schedule brings recurring revenue (NULL: open-ended).

        A running schedule runs to its end date; any other stops when its invoiced
        periods stop, or at its end date if that comes first."""
        return SQL(
            """CASE WHEN s.state = 'running' THEN s.date_end
                ELSE COALESCE(LEAST(s.date_end, last_period.date_end), s.date_start - 1)
            END"""
        )

    @api.model
    def _line_subtotal_sql(self):
        """A line's amount per period on the snapshot day, from its change history:
        the amount set by the last change on or before that day, else the amount
        before the first change after it, else (never changed) today's amount."""
        return SQL(
            """COALESCE(
                (SELECT ch.new_subtotal FROM crm_billing_change ch
                  WHERE ch.line_id = l.id AND ch.date <= snapshot.day
                  ORDER BY ch.date DESC, ch.id DESC LIMIT 1),
                (SELECT ch.old_subtotal FROM crm_billing_change ch
                  WHERE ch.line_id = l.id AND ch.date > snapshot.day
                  ORDER BY ch.date, ch.id LIMIT 1),
                l.price_subtotal)"""
        )

    @api.model
    def _rate_sql(self, currency, day):
        """Rate of ``currency`` on ``day`` for company ``c`` as res.currency._get_rates
        finds it: the company's own rate first, then a shared one, else the oldest."""
        return SQL(
            """COALESCE(
                (SELECT r.rate FROM res_currency_rate r
                  WHERE r.currency_id = %(currency)s AND r.name <= %(day)s
                    AND (r.company_id IS NULL OR r.company_id = split_part(c.parent_path, '/', 1)::int)
                  ORDER BY r.company_id, r.name DESC LIMIT 1),
                (SELECT r.rate FROM res_currency_rate r
                  WHERE r.currency_id = %(currency)s
                    AND (r.company_id IS NULL OR r.company_id = split_part(c.parent_path, '/', 1)::int)
                  ORDER BY r.company_id, r.name ASC LIMIT 1),
                1.0)""",
            currency=currency,
            day=day,
        )

    @api.model
    def _mrr_query(self, today):
        amount = SQL(
            """ROUND(
                (%(subtotal)s * (%(factor)s) * CASE WHEN s.currency_id = c.currency_id THEN 1.0
                    ELSE %(company_rate)s / %(schedule_rate)s END)::numeric,
                company_currency.decimal_places)""",
            subtotal=self._line_subtotal_sql(),
            factor=monthly_factor_sql(
                SQL.identifier("s", "rule_type"), SQL.identifier("s", "interval")
            ),
            company_rate=self._rate_sql(SQL("c.currency_id"), SQL("snapshot.day")),
            schedule_rate=self._rate_sql(SQL("s.currency_id"), SQL("snapshot.day")),
        )
        return SQL(
            """
            SELECT
                l.id::bigint * 100000
                    + EXTRACT(YEAR FROM months.month)::bigint * 12
                    + EXTRACT(MONTH FROM months.month)::bigint AS id,
                months.month::date AS month,
                l.id AS line_id,
                s.id AS schedule_id,
                s.commercial_partner_id AS partner_id,
                s.user_id AS user_id,
                s.company_id AS company_id,
                c.currency_id AS currency_id,
                l.product_id AS product_id,
                pp.product_tmpl_id AS product_tmpl_id,
                pt.categ_id AS product_categ_id,
                s.rule_type AS rule_type,
                s.state AS schedule_state,
                %(amount)s AS mrr,
                %(amount)s * 12 AS arr
            FROM crm_billing_schedule s
            JOIN crm_billing_schedule_line l ON l.schedule_id = s.id
            JOIN res_company c ON c.id = s.company_id
            JOIN res_currency company_currency ON company_currency.id = c.currency_id
            LEFT JOIN product_product pp ON pp.id = l.product_id
            LEFT JOIN product_template pt ON pt.id = pp.product_tmpl_id
            LEFT JOIN LATERAL (
                SELECT MAX(p.date_end) AS date_end
                  FROM crm_billing_period p
                 WHERE p.schedule_id = s.id
            ) last_period ON TRUE
            CROSS JOIN LATERAL (SELECT %(stop)s AS day) stop
            CROSS JOIN LATERAL generate_series(
                date_trunc('month', s.date_start),
                date_trunc('month', LEAST(COALESCE(stop.day, %(today)s), %(today)s)),
                interval '1 month'
            ) AS months(month)
            CROSS JOIN LATERAL (
                SELECT LEAST((months.month + interval '1 month' - interval '1 day')::date, %(today)s) AS day
            ) snapshot
            WHERE s.schedule_type = 'recurring'
              AND s.state != 'draft'
              AND s.interval >= 1
              AND s.date_start <= snapshot.day
              AND (stop.day IS NULL OR stop.day >= snapshot.day)
            """,
            amount=amount,
            stop=self._mrr_stop_sql(),
            today=today,
        )

    # --- Movements ---

    @api.model
    def _get_mrr_movements(self, date_from, date_to, domain=None):
        """New, expansion, contraction and churned MRR for each month from
        ``date_from`` to ``date_to`` (any days in the first and last months), summed
        from the movement analysis (``crm.billing.mrr.movement.report``), where
        a movement is defined once: each customer's MRR in a month compared with its
        MRR the month before; from nothing it is new, up is expansion, down is
        contraction, to nothing it is churn. ``domain`` narrows the movement rows
        (by customer, company).

        Returns a list of dicts, one per month in order, with ``month``, ``mrr``,
        ``arr``, ``new``, ``expansion``, ``contraction``, ``churn`` (all positive),
        ``net`` and the customer counts ``customers``, ``new_customers`` and
        ``churned_customers``."""
        first = fields.Date.to_date(date_from).replace(day=1)
        last = fields.Date.to_date(date_to).replace(day=1)
        rows = self.env["crm.billing.mrr.movement.report"].search_fetch(
            Domain.AND([domain or Domain.TRUE, [("month", ">=", first), ("month", "<=", last)]]),
            [
                "month",
                "mrr",
                "new_mrr",
                "expansion_mrr",
                "contraction_mrr",
                "churned_mrr",
                "is_new",
                "is_churned",
            ],
        )
        by_month = rows.grouped("month")
        currency = self.env.company.currency_id
        result = []
        month = first
        while month <= last:
            month_rows = by_month.get(month, rows.browse())
            figures = {
                key: currency.round(sum(month_rows.mapped(fname)))
                for key, fname in (
                    ("mrr", "mrr"),
                    ("new", "new_mrr"),
                    ("expansion", "expansion_mrr"),
                    ("contraction", "contraction_mrr"),
                    ("churn", "churned_mrr"),
                )
            }
            result.append(
                {
                    "month": month,
                    **figures,
                    "arr": currency.round(figures["mrr"] * 12),
                    "net": currency.round(
                        figures["new"]
                        + figures["expansion"]
                        - figures["contraction"]
                        - figures["churn"]
                    ),
                    "customers": len(month_rows.filtered(lambda row: row.mrr > 0)),
                    "new_customers": len(month_rows.filtered("is_new")),
                    "churned_customers": len(month_rows.filtered("is_churned")),
                }
            )
            month += relativedelta(months=1)
        return result
