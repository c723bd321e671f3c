# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import timedelta
from fractions import Fraction

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import format_date

from . import billing_period_math as period_math


class CrmBillingSchedule(models.Model):
    """Closing a schedule with a reason, at once or at the end of the current period,
    and reactivating one whose closing has not come yet."""

    _inherit = "crm.billing.schedule"

    close_reason_id = fields.Many2one(
        "crm.billing.close.reason",
        tracking=True,
        copy=False,
        ondelete="restrict",
        index="btree_not_null",
    )
    close_date = fields.Date(
        string="Closing Date",
        copy=False,
        readonly=True,
        help="The last day of service of a closed schedule (or of one closing at the end "
        "of its period).",
    )
    date_end_before_close = fields.Date(
        copy=False,
        readonly=True,
        help="The end date the schedule had before it was closed, restored if it is "
        "reactivated before its closing date.",
    )
    is_closing = fields.Boolean(
        compute="_compute_is_closing",
        help="Closes at the end of its period and can still be reactivated.",
    )

    @api.depends("close_reason_id", "close_date", "state")
    def _compute_is_closing(self):
        today = fields.Date.context_today(self)
        for schedule in self:
            schedule.is_closing = bool(
                schedule.close_reason_id
                and schedule.state in ("running", "paused")
                and schedule.close_date
                and schedule.close_date >= today
            )

    # --- Actions ---

    def action_open_close_wizard(self):
        return {
            "type": "ir.actions.act_window",
            "name": _("Close"),
            "res_model": "crm.billing.close.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_schedule_ids": self.ids},
        }

    def action_billing_reactivate(self):
        """Undo a closing at the end of the period, before that day comes."""
        self._check_billing_change_access()
        for schedule in self:
            if not schedule.is_closing:
                raise UserError(
                    _(
                        "Schedule %s is not closing: only a schedule closing at the end of its "
                        "period can be reactivated, before that day.",
                        schedule.name,
                    )
                )
            reason = schedule.close_reason_id
            schedule.write(
                {
                    "date_end": schedule.date_end_before_close,
                    "date_end_before_close": False,
                    "close_reason_id": False,
                    "close_date": False,
                }
            )
            schedule.sudo().message_post(
                body=_(
                    "%(who)s reactivated the schedule (it was closing: %(reason)s).",
                    who=self.env.user.partner_id.name,
                    reason=reason.name,
                ),
                author_id=self.env.user.partner_id.id,
                subtype_xmlid="mail.mt_note",
            )
        return True

    # --- Closing ---

    def _billing_close(self, reason, when="now", credit_unused=None):
        """Close these schedules for ``reason``.

        ``now``: the service ends today. What is due is invoiced (a postpaid period up
        to today, prorated), and the days of a prepaid period after today are credited
        when ``credit_unused`` (by default as the company says). ``period_end``: the
        schedule ends with its current period; it can be reactivated until then."""
        self._check_billing_change_access()
        if not reason:
            raise ValidationError(_("Closing a schedule needs a reason."))
        if when not in ("now", "period_end"):
            raise ValidationError(_("A schedule closes now or at the end of its period."))
        today = fields.Date.context_today(self)
        moves = self.env["account.move"]
        for schedule in self:
            schedule._check_billing_changeable()
            if schedule.is_closing and when == "period_end":
                raise UserError(
                    _(
                        "Schedule %(name)s already closes on %(date)s.",
                        name=schedule.name,
                        date=format_date(self.env, schedule.close_date),
                    )
                )
            credit = (
                schedule.company_id.billing_close_credit_unused
                if credit_unused is None
                else credit_unused
            )
            if when == "period_end":
                schedule._billing_close_at_period_end(reason, today)
            else:
                moves |= schedule._billing_close_now(reason, today, credit)
        return moves

    def _billing_close_at_period_end(self, reason, today):
        self.ensure_one()
        period = period_math.period_at(max(today, self.date_start), **self._period_kwargs())
        close_date = period.date_end if period else self.date_end
        vals = {
            "close_reason_id": reason.id,
            "close_date": close_date,
            "date_end_before_close": self.date_end,
        }
        if not self.date_end or close_date < self.date_end:
            vals["date_end"] = close_date
        self.write(vals)
        self.sudo().message_post(
            body=_(
                "%(who)s closed the schedule at the end of its period, on %(date)s: %(reason)s.",
                who=self.env.user.partner_id.name,
                date=format_date(self.env, close_date),
                reason=reason.name,
            ),
            author_id=self.env.user.partner_id.id,
            subtype_xmlid="mail.mt_note",
        )

    def _billing_close_now(self, reason, today, credit):
        self.ensure_one()
        self._lock_for_invoicing()
        close_date = max(today, self.date_start - timedelta(days=1))
        invoiced = self.period_ids.filtered(lambda p: p.date_end > close_date)
        plan = []
        if credit and invoiced:
            for line in self.line_ids:
                now = []
                for period in invoiced:
                    share = period_math.period_share(
                        period.date_start,
                        period.date_end,
                        Fraction(str(period.factor)),
                        day_from=close_date + timedelta(days=1),
                    )
                    amount = self.currency_id.round(-line.price_subtotal * float(share))
                    if not self.currency_id.is_zero(amount):
                        now.append(
                            (period, amount, max(close_date + timedelta(days=1), period.date_start))
                        )
                if now:
                    plan.append({"line": line, "label": line.name, "closing": True, "now": now})
        was_running = self.state == "running"
        self.write(
            {
                "close_reason_id": reason.id,
                "close_date": close_date,
                "date_end_before_close": self.date_end,
                "date_end": close_date if close_date >= self.date_start else self.date_start,
                "prorate": True,
            }
        )
        invoices = self.env["account.move"]
        if was_running and close_date >= self.date_start:
            # the days served up to today that are due and not invoiced yet
            invoices = self._generate_invoices(today, raise_errors=True)
        credit_note = self._create_billing_change_move(plan) if plan else self.env["account.move"]
        if self.state in ("running", "paused"):
            self.state = "done" if self.period_ids else "cancelled"
        body = _(
            "%(who)s closed the schedule on %(date)s: %(reason)s.",
            who=self.env.user.partner_id.name,
            date=format_date(self.env, close_date),
            reason=reason.name,
        )
        if credit_note:
            body += " " + _(
                "Unused days credited: %s.", self.currency_id.format(credit_note.amount_untaxed)
            )
        if invoices:
            body += " " + _(
                "Last days invoiced: %s.",
                self.currency_id.format(sum(invoices.mapped("amount_untaxed"))),
            )
        self.sudo().message_post(
            body=body, author_id=self.env.user.partner_id.id, subtype_xmlid="mail.mt_note"
        )
        return credit_note | invoices
