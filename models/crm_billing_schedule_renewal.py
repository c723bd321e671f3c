# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging
from datetime import timedelta

from odoo import Command, _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import format_date

from . import billing_period_math as period_math

_logger = logging.getLogger(__name__)


class CrmBillingSchedule(models.Model):
    """Renewals of fixed-term schedules.

    A term runs from ``term_start`` to ``date_end``. When its last period is invoiced,
    a schedule that renews automatically gets another term of the same number of
    periods (its prices changed by ``renewal_price_change`` percent, if set, from the
    new term's first day); one that does not ends as before. "Renew" makes the next
    term by hand. Some days before the end (per company) the salesperson gets an
    activity and the customer an email, once per term."""

    _inherit = "crm.billing.schedule"

    #: schedules told of their renewal per committed batch by the cron
    _RENEWAL_BATCH_SIZE = 100

    auto_renew = fields.Boolean(
        string="Renew Automatically",
        tracking=True,
        help="A fixed-term schedule renews for another term of the same length when its "
        "term ends, instead of ending.",
    )
    renewal_price_change = fields.Float(
        string="Price Change on Renewal (%)",
        digits=(16, 2),
        tracking=True,
        help="Unit prices change by this percentage when a new term starts (e.g. 5 for 5% "
        "more, -10 for 10% less).",
    )
    term_start = fields.Date(
        string="Current Term Start",
        copy=False,
        help="First day of the current term; the schedule's start date until it renews.",
    )
    renewal_price_date = fields.Date(
        copy=False,
        readonly=True,
        help="A renewed term's first day, until its price change is applied.",
    )
    renewal_notice_date_end = fields.Date(
        copy=False,
        readonly=True,
        help="The term end the renewal notice was sent for: never twice for one term.",
    )
    renewal_count = fields.Integer(string="Renewals", copy=False, readonly=True)
    renewal_order_ids = fields.One2many(
        "sale.order",
        "billing_renewal_schedule_id",
        string="Renewal Quotations",
        groups="sales_team.group_sale_salesman",
    )
    renewal_order_id = fields.Many2one(
        "sale.order",
        string="Renewed by",
        copy=False,
        readonly=True,
        help="The confirmed renewal quotation whose lines and prices the renewed term "
        "takes from its first day.",
    )

    @api.constrains("renewal_price_change")
    def _check_renewal_price_change(self):
        for schedule in self:
            if schedule.renewal_price_change <= -100:
                raise ValidationError(
                    _(
                        "Schedule %s: a renewal cannot take 100%% or more off the prices.",
                        schedule.name,
                    )
                )

    # --- Terms ---

    def _term_periods(self):
        """The periods of the current term."""
        self.ensure_one()
        start = self.term_start or self.date_start
        return [
            period
            for period in period_math.iter_periods(**self._period_kwargs())
            if period.date_start >= start
        ]

    def _next_term_end(self):
        """The last day of a term of the same number of periods after this one."""
        self.ensure_one()
        length = len(self._term_periods()) or 1
        kwargs = dict(self._period_kwargs(), date_end=None, prorate=False)
        last_index = None
        for period in period_math.iter_periods(**kwargs):
            if period.date_start > self.date_end:
                break
            last_index = period.index
        target = (last_index or 0) + length
        for period in period_math.iter_periods(**kwargs):
            if period.index == target:
                return period.date_end
        return None  # pragma: no cover

    def _check_renewable(self):
        for schedule in self:
            if schedule.schedule_type != "recurring" or not schedule.date_end:
                raise UserError(
                    _("Schedule %s has no fixed term: there is nothing to renew.", schedule.name)
                )
            if schedule.state not in ("running", "paused"):
                raise UserError(_("Schedule %s has ended: it can no longer renew.", schedule.name))
            if schedule.close_reason_id:
                raise UserError(
                    _(
                        "Schedule %s is closing: reactivate it instead of renewing it.",
                        schedule.name,
                    )
                )

    def action_billing_renew(self):
        """Make the next term now (the "Renew" button)."""
        self._check_billing_change_access()
        self._check_renewable()
        for schedule in self:
            schedule._billing_renew()
        return True

    def _billing_renew(self, order=None):
        """Extend the schedule by one term. The new term's lines and prices (the price
        change, or those of the renewal quotation ``order``) apply from its first day,
        once the current term is fully invoiced."""
        self.ensure_one()
        new_start = self.date_end + timedelta(days=1)
        new_end = self._next_term_end()
        self.sudo().write(
            {
                "term_start": new_start,
                "date_end": new_end,
                "renewal_count": self.renewal_count + 1,
                "renewal_price_date": new_start if order or self.renewal_price_change else False,
                "renewal_order_id": order.id if order else False,
            }
        )
        dates = {
            "start": format_date(self.env, new_start),
            "end": format_date(self.env, new_end),
        }
        if order:
            body = _(
                "Renewed for another term, from %(start)s to %(end)s, with the lines and "
                "prices of quotation %(order)s.",
                order=order.name,
                **dates,
            )
        elif self.renewal_price_change:
            body = _(
                "Renewed for another term, from %(start)s to %(end)s, prices changed by "
                "%(price)s%%.",
                price=self.renewal_price_change,
                **dates,
            )
        else:
            body = _("Renewed for another term, from %(start)s to %(end)s.", **dates)
        self.sudo().message_post(
            body=body,
            subtype_xmlid="mail.mt_note",
        )
        self._billing_apply_renewal_price()

    # --- Renewal quotation ---

    def action_billing_renewal_quotation(self):
        """Make the quotation of the next term (the schedule's lines at the renewal
        prices) for the salesperson to send; confirming it renews the schedule."""
        self.ensure_one()
        self._check_billing_change_access()
        self._check_renewable()
        if self.renewal_order_ids.filtered(lambda o: o.state in ("draft", "sent")):
            raise UserError(
                _(
                    "Schedule %s already has a renewal quotation to send: confirm or "
                    "cancel it first.",
                    self.name,
                )
            )
        order = self.env["sale.order"].create(self._prepare_renewal_order_vals())
        return {
            "type": "ir.actions.act_window",
            "res_model": "sale.order",
            "res_id": order.id,
            "view_mode": "form",
            "target": "current",
        }

    def _prepare_renewal_order_vals(self):
        """Values of the renewal quotation; extend to add fields."""
        self.ensure_one()
        factor = 1 + self.renewal_price_change / 100.0
        precision = self.env["decimal.precision"].precision_get("Product Price")
        vals = {
            "partner_id": self.partner_id.id,
            "partner_invoice_id": (self.partner_invoice_id or self.partner_id).id,
            "company_id": self.company_id.id,
            "user_id": self.user_id.id or self.env.user.id,
            "origin": self.name,
            "validity_date": self.date_end,
            "billing_renewal_schedule_id": self.id,
            "billing_renewal_date_end": self.date_end,
            "order_line": [
                Command.create(
                    {
                        "product_id": line.product_id.id,
                        "name": line.name,
                        "product_uom_qty": line.quantity,
                        "price_unit": round(line.price_unit * factor, precision),
                        "discount": line.discount,
                        "tax_ids": [Command.set(line.tax_ids.ids)],
                        "billing_renewal_line_id": line.id,
                    }
                )
                for line in self.line_ids.filtered(lambda line: line.quantity and line.product_id)
            ],
        }
        if self.fiscal_position_id:
            vals["fiscal_position_id"] = self.fiscal_position_id.id
        if self.payment_term_id:
            vals["payment_term_id"] = self.payment_term_id.id
        return vals

    def _billing_renew_from_order(self, order):
        """Renew for the quotation ``order`` once it is confirmed; refused if the term
        it was made for is no longer the current one (renewed or ended since)."""
        self.ensure_one()
        self._check_renewable()
        if order.billing_renewal_date_end != self.date_end:
            raise UserError(
                _(
                    "Quotation %(order)s renews the term of %(name)s ending on %(end)s, "
                    "which has been renewed since: it cannot renew it again.",
                    order=order.name,
                    name=self.name,
                    end=format_date(self.env, order.billing_renewal_date_end),
                )
            )
        self._billing_renew(order=order)

    def _billing_renewal_changes(self):
        """The changes a renewed term makes on its first day: the price change, or
        the renewal quotation's lines (new quantities, prices, products; a line left
        out of it is removed)."""
        self.ensure_one()
        order = self.renewal_order_id
        if not order:
            factor = 1 + self.renewal_price_change / 100.0
            precision = self.env["decimal.precision"].precision_get("Product Price")
            return [
                {"line": line, "price_unit": round(line.price_unit * factor, precision)}
                for line in self.line_ids
                if line.price_unit
            ]
        order_lines = order.order_line.filtered(lambda line: not line.display_type)
        changes = []
        for line in self.line_ids:
            order_line = order_lines.filtered(
                lambda ol, line=line: ol.billing_renewal_line_id == line
            )[:1]
            new = (
                (order_line.product_uom_qty, order_line.price_unit, order_line.discount)
                if order_line
                else (0.0, line.price_unit, line.discount)
            )
            if new != (line.quantity, line.price_unit, line.discount):
                changes.append(
                    {"line": line, "quantity": new[0], "price_unit": new[1], "discount": new[2]}
                )
        for order_line in order_lines.filtered(
            lambda ol: ol.billing_renewal_line_id.schedule_id != self
        ):
            changes.append(
                {
                    "product_id": order_line.product_id.id,
                    "name": order_line.name,
                    "tax_ids": order_line.tax_ids.ids,
                    "quantity": order_line.product_uom_qty,
                    "price_unit": order_line.price_unit,
                    "discount": order_line.discount,
                }
            )
        return changes

    def _billing_apply_renewal_price(self):
        """Change the prices of a renewed term from its first day, once every period
        before it is invoiced (so that no period of the old term is billed at the new
        prices); recorded in the change history like any change."""
        for schedule in self.filtered("renewal_price_date"):
            upcoming = schedule._next_period()
            if upcoming and upcoming.date_start < schedule.renewal_price_date:
                continue
            changes = schedule._billing_renewal_changes()
            day = schedule.renewal_price_date
            schedule.sudo().renewal_price_date = False
            if changes:
                schedule.sudo()._apply_billing_changes(day, changes, source="renewal")

    def _check_done(self):
        """A schedule that renews automatically starts its next term instead of ending;
        a renewed term gets its new prices once the old term is invoiced."""
        for schedule in self.filtered(
            lambda s: (
                s.state == "running"
                and s.auto_renew
                and s.schedule_type == "recurring"
                and s.date_end
                and not s.close_reason_id
            )
        ):
            if not schedule._next_period():
                schedule._billing_renew()
        self.filtered(
            lambda s: s.state == "running" and s.renewal_price_date
        )._billing_apply_renewal_price()
        return super()._check_done()

    # --- Renewal notice ---

    @api.model
    def _get_renewal_notice_domain(self, today):
        return [
            ("state", "=", "running"),
            ("schedule_type", "=", "recurring"),
            ("date_end", ">=", today),
            ("close_reason_id", "=", False),
        ]

    @api.model
    def _get_renewal_notices_due(self, today):
        """Running fixed-term schedules whose term ends within their company's notice
        days and whose customer was not told of this term yet."""
        candidates = self.search(self._get_renewal_notice_domain(today), order="date_end, id")
        return candidates.filtered(lambda s: s._billing_renewal_notice_due(today))

    def _billing_renewal_notice_due(self, today):
        self.ensure_one()
        days = self.company_id.billing_renewal_notice_days
        return (
            days > 0
            and self.date_end - timedelta(days=days) <= today
            and self.renewal_notice_date_end != self.date_end
        )

    def _billing_send_renewal_notice(self):
        """The salesperson's activity and the customer's email, for this term."""
        template = self.env.ref(
            "crm_billing.mail_template_renewal_notice", raise_if_not_found=False
        )
        for schedule in self:
            schedule.renewal_notice_date_end = schedule.date_end
            schedule.activity_schedule(
                "mail.mail_activity_data_todo",
                date_deadline=schedule.date_end,
                summary=_("Renewal of %s", schedule.name),
                note=_(
                    "The term ends on %s: it renews automatically.",
                    format_date(self.env, schedule.date_end),
                )
                if schedule.auto_renew
                else _(
                    "The term ends on %s: it ends then.", format_date(self.env, schedule.date_end)
                ),
                user_id=schedule.user_id.id or self.env.user.id,
            )
            if template and schedule.partner_id.email:
                schedule.message_post_with_source(
                    template, subtype_xmlid="mail.mt_comment", message_type="comment"
                )

    @api.model
    def _cron_send_renewal_notices(self, batch_size=None):
        """Tell salespeople and customers of the terms ending soon, in committed
        batches; a term is told once, however often the cron runs."""
        batch_size = batch_size or self._RENEWAL_BATCH_SIZE
        today = fields.Date.context_today(self)
        Cron = self.env["ir.cron"]
        due = self._get_renewal_notices_due(today)
        for start in range(0, len(due), batch_size):
            batch = due[start : start + batch_size]
            for company, schedules in batch.grouped("company_id").items():
                schedules.with_company(company)._billing_send_renewal_notice()
            _logger.info("Renewal notices: %d schedules in this batch", len(batch))
            if Cron._commit_progress(len(batch), remaining=len(due) - start - len(batch)) <= 0:
                break
        return True
