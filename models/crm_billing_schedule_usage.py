# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from collections import defaultdict

from odoo import api, fields, models

from . import billing_period_math as period_math

#: key of the run's usage, loaded once per batch, in the cursor's cache
_USAGE_CACHE = "crm_billing_usage"


class CrmBillingSchedule(models.Model):
    """Metered usage and delivered quantities of schedules: the run loads the usage
    of a whole batch in one aggregated query before the invoices are built, and
    schedules billing what their sales order delivered are invoiced by the order."""

    _inherit = "crm.billing.schedule"

    skip_empty_periods = fields.Boolean(
        string="Skip Periods Without Usage",
        default=True,
        help="A period with no usage (and nothing delivered) on a schedule without fixed "
        "lines makes no invoice; it is still marked as billed.",
    )
    usage_ids = fields.One2many("crm.billing.usage", "schedule_id", string="Usage")
    usage_count = fields.Integer(compute="_compute_usage_count")

    def _compute_usage_count(self):
        counts = dict(
            self.env["crm.billing.usage"]._read_group(
                [("schedule_id", "in", self.ids)], ["schedule_id"], ["__count"]
            )
        )
        for schedule in self:
            schedule.usage_count = counts.get(schedule, 0)

    def action_view_usage(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "crm_billing.crm_billing_usage_action"
        )
        action["domain"] = [("schedule_id", "=", self.id)]
        action["context"] = {"default_schedule_id": self.id}
        return action

    # --- Invoicing ---

    def _invoice_due_periods(self, today):
        """Schedules billing delivered quantities are invoiced by their order; the
        usage of the others' due periods is loaded for the whole batch at once, and
        their empty periods are marked billed without an invoice."""
        recurring = self.filtered(lambda s: s.state == "running" and s.schedule_type == "recurring")
        by_order = recurring.filtered(lambda s: "delivered" in s.line_ids.mapped("quantity_source"))
        invoices = self.env["account.move"]
        for schedule in by_order:
            invoices |= schedule.with_company(schedule.company_id)._invoice_due_deliveries(today)
        others = self - by_order
        metered = (recurring - by_order).filtered(
            lambda s: "usage" in s.line_ids.mapped("quantity_source")
        )
        if not metered:
            return invoices | super(CrmBillingSchedule, others)._invoice_due_periods(today)
        summary = metered._invoiced_periods_summary()
        due = {schedule.id: schedule._due_periods(today, summary=summary) for schedule in metered}
        usage = self._load_usage(metered, due)
        cache = self.env.cr.cache
        cache[_USAGE_CACHE] = usage
        try:
            metered._mark_empty_periods(due, usage)
            return invoices | super(CrmBillingSchedule, others)._invoice_due_periods(today)
        finally:
            cache.pop(_USAGE_CACHE, None)

    def _usage_for_invoicing(self, periods_by_schedule):
        """Usage of these periods, keyed by (line id, period start): from the run's
        batch when it is loaded, else read for them alone."""
        usage = self.env.cr.cache.get(_USAGE_CACHE)
        if usage is None:
            usage = self._load_usage(
                self.browse({s.id for s in periods_by_schedule}),
                {s.id: periods for s, periods in periods_by_schedule.items()},
            )
        return usage

    @api.model
    def _load_usage(self, schedules, due):
        """Aggregate in SQL the usage not yet invoiced of the metered lines of
        ``schedules`` up to their last due period (``due``: schedule id -> periods).

        Returns {(line id, period start): {"current": (quantity, usage ids),
        "late": [...]}}: each period gets the usage dated in it; the first due period
        of a schedule also gets the late usage, dated in periods already invoiced,
        one entry per such period."""
        Usage = self.env["crm.billing.usage"].sudo()
        lines = schedules.line_ids.filtered(lambda line: line.quantity_source == "usage")
        ends = [period.date_end for periods in due.values() for period in periods]
        if not lines or not ends:
            return {}
        rows = Usage._read_group(
            [
                ("line_id", "in", lines.ids),
                ("invoice_line_id", "=", False),
                ("date", "<=", max(ends)),
            ],
            ["line_id", "date:day"],
            ["quantity:sum", "id:array_agg"],
        )
        result = {}
        late_rows = defaultdict(list)
        for line, day, quantity, ids in rows:
            periods = due.get(line.schedule_id.id) or []
            if not periods:
                continue
            if day < periods[0].date_start:
                late_rows[line].append((day, quantity, ids))
                continue
            for period in periods:
                if period.date_start <= day <= period.date_end:
                    entry = result.setdefault(
                        (line.id, period.date_start), {"current": (0.0, []), "late": []}
                    )
                    entry["current"] = (entry["current"][0] + quantity, entry["current"][1] + ids)
                    break
        if late_rows:
            self._load_late_usage(late_rows, due, result)
        return result

    @api.model
    def _load_late_usage(self, late_rows, due, result):
        """Group late usage by the invoiced period it is dated in, with what that
        period already billed of the line, so it is priced on top of it."""
        groups = {}
        for line, line_rows in late_rows.items():
            invoiced = line.schedule_id.sudo().period_ids
            for day, quantity, ids in line_rows:
                period = invoiced.filtered(lambda p, d=day: p.date_start <= d <= p.date_end)[:1]
                group = groups.setdefault(
                    (line, period),
                    {
                        "quantity": 0.0,
                        "ids": [],
                        "date_from": day,
                        "date_to": day,
                        "period_start": period.date_start,
                        "period_end": period.date_end,
                        "factor": period.factor if period else 1.0,
                        "invoiced_quantity": 0.0,
                    },
                )
                group["quantity"] += quantity
                group["ids"] += ids
                group["date_from"] = min(group["date_from"], day)
                group["date_to"] = max(group["date_to"], day)
        periods = [period for _line, period in groups if period]
        if periods:
            lines = self.env["crm.billing.schedule.line"].union(*(line for line, _p in groups))
            billed = (
                self.env["crm.billing.usage"]
                .sudo()
                ._read_group(
                    [
                        ("line_id", "in", lines.ids),
                        ("invoice_line_id", "!=", False),
                        ("date", ">=", min(periods, key=lambda p: p.date_start).date_start),
                        ("date", "<=", max(periods, key=lambda p: p.date_end).date_end),
                    ],
                    ["line_id", "date:day"],
                    ["quantity:sum"],
                )
            )
            for line, day, quantity in billed:
                for (group_line, period), group in groups.items():
                    if (
                        group_line == line
                        and period
                        and period.date_start <= day <= period.date_end
                    ):
                        group["invoiced_quantity"] += quantity
        for (line, _period), group in sorted(groups.items(), key=lambda item: item[1]["date_from"]):
            first = due[line.schedule_id.id][0]
            entry = result.setdefault(
                (line.id, first.date_start), {"current": (0.0, []), "late": []}
            )
            entry["late"].append(group)

    def _mark_empty_periods(self, due, usage):
        """Periods without usage of schedules with only metered lines make no invoice
        when the schedule says so; they are recorded as billed all the same."""
        Move = self.env["account.move"]
        vals_list = []
        for schedule in self.filtered("skip_empty_periods"):
            lines = schedule.line_ids
            if any(line.quantity_source != "usage" for line in lines):
                continue
            for period in due[schedule.id]:
                if not any(usage.get((line.id, period.date_start)) for line in lines):
                    vals_list.append(schedule._prepare_period_vals(period, Move))
        if vals_list:
            self.env["crm.billing.period"].create(vals_list)

    # --- Delivered on the sales order ---

    def _invoice_due_deliveries(self, today):
        """Invoice the due periods of a schedule billing what its sales order
        delivered: the order invoices the delivered, not yet invoiced quantities of
        the schedule's order lines (sale's own ``_create_invoices``, so the order's
        invoiced quantities stay sale's), and the schedule's other lines are added
        to that invoice."""
        self.ensure_one()
        Move = self.env["account.move"]
        Period = self.env["crm.billing.period"]
        due = self._due_periods(today)
        if not due:
            self._check_done()
            return Move
        self._check_ready()
        order_lines = self.line_ids.filtered(lambda line: line.quantity_source == "delivered")
        invoices = Move
        for period in due:
            period_record = Period.create(self._prepare_period_vals(period, Move))
            invoice = self._create_delivered_invoice(period, order_lines.sale_line_id)
            vals = self._prepare_invoice_vals(period)
            if invoice:
                invoice_vals = {
                    "billing_schedule_id": self.id,
                    "billing_period_id": period_record.id,
                    "invoice_date": vals["invoice_date"],
                    "invoice_line_ids": vals["invoice_line_ids"],
                }
                if self.journal_id and invoice.journal_id != self.journal_id:
                    invoice_vals["journal_id"] = self.journal_id.id
                invoice.sudo().write(invoice_vals)
            elif vals["invoice_line_ids"] or not self.skip_empty_periods:
                vals["billing_period_id"] = period_record.id
                invoice = Move.create(vals)
            if invoice:
                period_record.invoice_id = invoice
                invoices |= invoice
        if self.auto_post and invoices:
            invoices.sudo().action_post()
        self._check_done()
        return invoices

    def _create_delivered_invoice(self, period, order_lines):
        """The order's invoice of what ``order_lines`` delivered and did not invoice
        yet, or nothing. With sale_timesheet installed, only the timesheets of the
        period are invoiced, exactly as its invoicing wizard limits them."""
        order = self.sale_order_id
        context = {
            "crm_billing_sale_line_ids": tuple(order_lines.ids),
            "crm_billing_period": (period.date_start, period.date_end),
            "raise_if_nothing_to_invoice": False,
        }
        if hasattr(order.order_line, "_recompute_qty_to_invoice"):  # sale_timesheet
            order.order_line._recompute_qty_to_invoice(period.date_start, period.date_end)
            context.update(
                timesheet_start_date=period.date_start, timesheet_end_date=period.date_end
            )
        return order.with_context(**context)._create_invoices()

    # --- Portal ---

    def _get_current_usage(self, today=None):
        """Usage of the metered lines in the current period, for the customer:
        a list of dicts (line, period start and end, quantity, allowance)."""
        self.ensure_one()
        today = today or fields.Date.context_today(self)
        lines = self.line_ids.filtered(lambda line: line.quantity_source == "usage")
        if not lines or self.schedule_type != "recurring" or self.date_start > today:
            return []
        period = None
        for candidate in period_math.iter_periods(**self._period_kwargs()):
            if candidate.date_start > today:
                break
            period = candidate
        if not period or period.date_end < today:
            return []
        totals = dict(
            self.env["crm.billing.usage"]
            .sudo()
            ._read_group(
                [
                    ("line_id", "in", lines.ids),
                    ("date", ">=", period.date_start),
                    ("date", "<=", period.date_end),
                ],
                ["line_id"],
                ["quantity:sum"],
            )
        )
        return [
            {
                "line": line,
                "date_start": period.date_start,
                "date_end": period.date_end,
                "quantity": totals.get(line, 0.0),
                "quantity_text": line._format_usage_quantity(totals.get(line, 0.0)),
                "included_text": line.included_quantity
                and line._format_usage_quantity(line._usage_allowance(period.factor)),
            }
            for line in lines
        ]
