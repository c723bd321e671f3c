# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging
from datetime import timedelta

from odoo import _, api, fields, models
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

    def _billing_renew(self):
        """Extend the schedule by one term; the price change, if any, applies from the
        new term's first day, once the current term is fully invoiced."""
        self.ensure_one()
        new_start = self.date_end + timedelta(days=1)
        new_end = self._next_term_end()
        self.sudo().write(
            {
                "term_start": new_start,
                "date_end": new_end,
                "renewal_count": self.renewal_count + 1,
                "renewal_price_date": new_start if self.renewal_price_change else False,
            }
        )
        self.sudo().message_post(
            body=_(
                "Renewed for another term, from %(start)s to %(end)s, prices changed by "
                "%(price)s%%.",
                start=format_date(self.env, new_start),
                end=format_date(self.env, new_end),
                price=self.renewal_price_change,
            )
            if self.renewal_price_change
            else _(
                "Renewed for another term, from %(start)s to %(end)s.",
                start=format_date(self.env, new_start),
                end=format_date(self.env, new_end),
            ),
            subtype_xmlid="mail.mt_note",
        )
        self._billing_apply_renewal_price()

    def _billing_apply_renewal_price(self):
        """Change the prices of a renewed term from its first day, once every period
        before it is invoiced (so that no period of the old term is billed at the new
        prices); recorded in the change history like any change."""
        for schedule in self.filtered("renewal_price_date"):
            upcoming = schedule._next_period()
            if upcoming and upcoming.date_start < schedule.renewal_price_date:
                continue
            factor = 1 + schedule.renewal_price_change / 100.0
            precision = self.env["decimal.precision"].precision_get("Product Price")
            changes = [
                {"line": line, "price_unit": round(line.price_unit * factor, precision)}
                for line in schedule.line_ids
                if line.price_unit
            ]
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
