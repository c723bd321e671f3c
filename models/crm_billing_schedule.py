# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging

import psycopg2
from psycopg2 import errors as pg_errors

from odoo import Command, _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import SQL

from . import billing_period_math as period_math

_logger = logging.getLogger(__name__)


def _is_transaction_failure(error):
    """Errors that doom the whole transaction (serialization failures, deadlocks,
    lost connections): they must reach the caller, not be logged per schedule."""
    return isinstance(error, psycopg2.OperationalError)


class CrmBillingSchedule(models.Model):
    _name = "crm.billing.schedule"
    _description = "Billing Schedule"
    _inherit = ["mail.thread", "mail.activity.mixin", "portal.mixin"]
    _order = "next_invoice_date, id desc"
    _check_company_auto = True

    #: schedules claimed and invoiced per committed batch by the cron
    _CRON_BATCH_SIZE = 100
    #: periods of one schedule invoiced per run at most, unless the system parameter
    #: ``crm_billing.max_periods_per_run`` says otherwise: a schedule backdated by
    #: years catches up over several runs instead of holding one batch for hours
    _MAX_PERIODS_PER_RUN = 100

    name = fields.Char(
        string="Reference", required=True, copy=False, readonly=True, default="/", index="trigram"
    )
    partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        required=True,
        tracking=True,
        index=True,
        check_company=True,
    )
    commercial_partner_id = fields.Many2one(
        related="partner_id.commercial_partner_id", store=True, index=True
    )
    company_id = fields.Many2one(
        "res.company",
        required=True,
        index=True,
        default=lambda self: self.env.company,
    )
    currency_id = fields.Many2one(
        "res.currency",
        required=True,
        tracking=True,
        default=lambda self: self.env.company.currency_id,
    )
    company_currency_id = fields.Many2one(
        related="company_id.currency_id", string="Company Currency"
    )
    sale_order_id = fields.Many2one(
        "sale.order",
        string="Sales Order",
        index="btree_not_null",
        check_company=True,
        copy=False,
    )
    user_id = fields.Many2one(
        "res.users",
        string="Salesperson",
        tracking=True,
        default=lambda self: self.env.user,
        domain="[('share', '=', False)]",
    )
    state = fields.Selection(
        [
            ("draft", "Draft"),
            ("running", "Running"),
            ("paused", "Paused"),
            ("done", "Done"),
            ("cancelled", "Cancelled"),
        ],
        default="draft",
        required=True,
        tracking=True,
        copy=False,
        index=True,
        group_expand=True,
    )
    schedule_type = fields.Selection(
        [("recurring", "Recurring"), ("instalment", "Instalments")],
        string="Type",
        default="recurring",
        required=True,
        tracking=True,
    )
    rule_type = fields.Selection(
        period_math.RULE_TYPE_SELECTION,
        string="Recurrence",
        default="monthly",
        required=True,
        tracking=True,
    )
    interval = fields.Integer(string="Every", default=1, required=True, tracking=True)
    date_start = fields.Date(
        string="Start Date", required=True, default=fields.Date.context_today, tracking=True
    )
    date_end = fields.Date(
        string="End Date", tracking=True, help="Leave empty for a schedule that runs until stopped."
    )
    invoicing_mode = fields.Selection(
        [("prepaid", "In advance (prepaid)"), ("postpaid", "In arrears (postpaid)")],
        default="prepaid",
        required=True,
        help="Prepaid periods are invoiced on their first day, postpaid ones on their last.",
    )
    align_calendar = fields.Boolean(
        string="Follow the Calendar",
        help="Periods start on the 1st of the month, quarter or year (Monday for weeks); "
        "the first, partial period is prorated.",
    )
    prorate = fields.Boolean(
        string="Prorate Last Period",
        help="When the end date falls inside a period, invoice only the days covered.",
    )
    auto_post = fields.Boolean(
        string="Post Invoices",
        default=lambda self: self._billing_may_post(),
        help="Post the invoices as soon as they are created. Needs Invoicing rights "
        "(or Billing Manager) to switch on.",
    )
    auto_send = fields.Boolean(
        string="Send Invoices",
        help="Email posted invoices to the customer, with the PDF attached, "
        "through Odoo's invoice sending queue. Needs Invoicing rights (or Billing "
        "Manager) to switch on.",
    )
    journal_id = fields.Many2one(
        "account.journal",
        check_company=True,
        domain="[('type', '=', 'sale')]",
        help="Sales journal of the invoices; the company's default one when empty.",
    )
    payment_term_id = fields.Many2one(
        "account.payment.term", string="Payment Terms", check_company=True
    )
    fiscal_position_id = fields.Many2one("account.fiscal.position", check_company=True)
    note = fields.Html()
    next_invoice_date = fields.Date(
        compute="_compute_next_invoice_date",
        store=True,
        index=True,
        help="When the next period falls due for invoicing; empty when nothing is left.",
    )
    line_ids = fields.One2many(
        "crm.billing.schedule.line", "schedule_id", string="Lines", copy=True
    )
    period_ids = fields.One2many("crm.billing.period", "schedule_id", string="Periods")
    invoice_ids = fields.One2many(
        "account.move", "billing_schedule_id", string="Invoices", readonly=True
    )
    invoice_count = fields.Integer(compute="_compute_invoice_count")
    amount_untaxed = fields.Monetary(
        string="Amount per Period",
        compute="_compute_amounts",
        store=True,
        help="Untaxed amount of a full period (of all instalments for an instalment plan).",
    )
    instalment_total = fields.Monetary(
        string="Plan Total",
        readonly=True,
        copy=False,
        help="Instalment plan of a sales order: what the instalments add up to, taxes "
        "included, i.e. what was left to invoice on the order when the plan was made.",
    )
    mrr = fields.Monetary(
        string="MRR",
        compute="_compute_amounts",
        store=True,
        currency_field="company_currency_id",
        help="Monthly recurring revenue of a running recurring schedule, in company currency.",
    )
    recurrence_label = fields.Char(
        string="Billed", compute="_compute_recurrence_label", help="How often it invoices."
    )

    # --- Payment collection ---

    payment_token_id = fields.Many2one(
        "payment.token",
        string="Payment Method",
        tracking=True,
        copy=False,
        ondelete="set null",
        groups="account.group_account_invoice,crm_billing.group_billing_manager",
        domain="[('partner_id', 'child_of', commercial_partner_id), "
        "('company_id', 'parent_of', company_id)]",
        help="Saved payment method of the customer that the collection run charges "
        "for each posted invoice of this schedule.",
    )
    billing_charge_ids = fields.One2many(
        "crm.billing.charge", "schedule_id", string="Charges", readonly=True
    )

    # --- Computes ---

    @api.depends("schedule_type", "rule_type", "interval")
    def _compute_recurrence_label(self):
        for schedule in self:
            schedule.recurrence_label = schedule._get_recurrence_label()

    def _get_recurrence_label(self):
        """How often this schedule invoices, in words: "Monthly", "Every 2 months"."""
        self.ensure_one()
        _ = self.env._
        if self.schedule_type == "instalment":
            return _("In instalments")
        if self.interval == 1:
            return {
                "daily": _("Daily"),
                "weekly": _("Weekly"),
                "monthly": _("Monthly"),
                "quarterly": _("Quarterly"),
                "yearly": _("Yearly"),
            }[self.rule_type]
        return {
            "daily": _("Every %s days", self.interval),
            "weekly": _("Every %s weeks", self.interval),
            "monthly": _("Every %s months", self.interval),
            "quarterly": _("Every %s quarters", self.interval),
            "yearly": _("Every %s years", self.interval),
        }[self.rule_type]

    @api.depends(
        "state",
        "schedule_type",
        "rule_type",
        "interval",
        "date_start",
        "date_end",
        "invoicing_mode",
        "align_calendar",
        "prorate",
        "period_ids.date_start",
        "line_ids.date",
        "line_ids.invoice_id",
    )
    def _compute_next_invoice_date(self):
        for schedule in self:
            if schedule.state not in ("draft", "running", "paused") or schedule.interval < 1:
                schedule.next_invoice_date = False
                continue
            period = schedule._next_period()
            schedule.next_invoice_date = period and schedule._period_invoice_date(period)

    def _compute_invoice_count(self):
        # the invoices the user opens from the button: none without invoice rights
        Move = self.env["account.move"]
        counts = (
            dict(
                Move._read_group(
                    [("billing_schedule_id", "in", self.ids)], ["billing_schedule_id"], ["__count"]
                )
            )
            if Move.has_access("read")
            else {}
        )
        for schedule in self:
            schedule.invoice_count = counts.get(schedule, 0)

    @api.depends(
        "state",
        "schedule_type",
        "rule_type",
        "interval",
        "currency_id",
        "company_id",
        "line_ids.price_subtotal",
    )
    def _compute_amounts(self):
        today = fields.Date.context_today(self)
        for schedule in self:
            amount = sum(schedule.line_ids.mapped("price_subtotal"))
            schedule.amount_untaxed = amount
            if (
                schedule.schedule_type != "recurring"
                or schedule.state != "running"
                or schedule.interval < 1
            ):
                schedule.mrr = 0.0
                continue
            monthly = amount * float(
                period_math.monthly_factor(schedule.rule_type, schedule.interval)
            )
            schedule.mrr = schedule.currency_id._convert(
                monthly, schedule.company_currency_id, schedule.company_id, today
            )

    @api.depends("commercial_partner_id", "name")
    def _compute_display_name(self):
        # named after the customer company, not the contact who receives the invoices
        for schedule in self:
            schedule.display_name = (
                f"{schedule.name} - {schedule.commercial_partner_id.name}"
                if schedule.commercial_partner_id
                else schedule.name
            )

    def _compute_access_url(self):
        res = super()._compute_access_url()
        for schedule in self:
            schedule.access_url = f"/my/billing/{schedule.id}"
        return res

    # --- Constraints ---

    @api.constrains("interval")
    def _check_interval(self):
        for schedule in self:
            if schedule.interval < 1:
                raise ValidationError(
                    _("Schedule %s: invoices recur every 1 period or more.", schedule.name)
                )

    @api.constrains("date_start", "date_end")
    def _check_dates(self):
        for schedule in self:
            if schedule.date_end and schedule.date_end < schedule.date_start:
                raise ValidationError(
                    _(
                        "Schedule %(name)s ends on %(end)s, before it starts on %(start)s.",
                        name=schedule.name,
                        end=schedule.date_end,
                        start=schedule.date_start,
                    )
                )

    @api.constrains("journal_id", "currency_id", "company_id")
    def _check_journal(self):
        for schedule in self.filtered("journal_id"):
            journal = schedule.journal_id
            if journal.type != "sale":
                raise ValidationError(
                    _(
                        "Schedule %(name)s must invoice through a sales journal, not %(journal)s.",
                        name=schedule.name,
                        journal=journal.display_name,
                    )
                )
            if journal.company_id != schedule.company_id:
                raise ValidationError(
                    _(
                        "Journal %(journal)s belongs to %(company)s, not to the schedule's company.",
                        journal=journal.display_name,
                        company=journal.company_id.name,
                    )
                )
            if journal.currency_id and journal.currency_id != schedule.currency_id:
                raise ValidationError(
                    _(
                        "Journal %(journal)s invoices in %(journal_currency)s; "
                        "schedule %(name)s is in %(currency)s.",
                        journal=journal.display_name,
                        journal_currency=journal.currency_id.name,
                        name=schedule.name,
                        currency=schedule.currency_id.name,
                    )
                )

    @api.constrains("payment_token_id", "partner_id", "company_id")
    def _check_payment_token(self):
        """A schedule charges only a payment method of its own customer."""
        for schedule in self.sudo().filtered("payment_token_id"):
            token = schedule.payment_token_id
            if token.partner_id.commercial_partner_id != schedule.commercial_partner_id:
                raise ValidationError(
                    _(
                        "Schedule %(name)s can only be charged with a payment method of "
                        "%(customer)s, not with one of %(owner)s.",
                        name=schedule.name,
                        customer=schedule.commercial_partner_id.display_name,
                        owner=token.partner_id.commercial_partner_id.display_name,
                    )
                )
            if not token.active:
                raise ValidationError(
                    _("Payment method %s was removed and cannot be charged.", token.display_name)
                )
            if token.company_id and token.company_id not in schedule.company_id.parent_ids:
                raise ValidationError(
                    _(
                        "Payment method %(token)s belongs to %(company)s, not to the "
                        "schedule's company.",
                        token=token.display_name,
                        company=token.company_id.name,
                    )
                )

    # --- ORM ---

    @api.model_create_multi
    def create(self, vals_list):
        sequence = self.env["ir.sequence"]
        Order = self.env["sale.order"]
        for vals in vals_list:
            if (
                vals.get("schedule_type") == "instalment"
                and vals.get("sale_order_id")
                and not vals.get("instalment_total")
            ):
                # what the plan must add up to: what is left to invoice on the order
                vals["instalment_total"] = Order.browse(
                    vals["sale_order_id"]
                )._billing_amount_left()
            if vals.get("name", "/") == "/":
                company = self.env["res.company"].browse(vals.get("company_id")) or self.env.company
                vals["name"] = sequence.with_company(company).next_by_code(
                    "crm.billing.schedule"
                ) or _("New")
        schedules = super().create(vals_list)
        schedules.filtered(lambda s: s.auto_post or s.auto_send)._check_may_post()
        return schedules

    #: fields that shape the invoiced periods, frozen once a period is invoiced
    _FROZEN_WHEN_INVOICED = (
        "schedule_type",
        "rule_type",
        "interval",
        "date_start",
        "align_calendar",
        "invoicing_mode",
        "currency_id",
        "company_id",
        "partner_id",
    )

    def write(self, vals):
        if vals.get("auto_post") or vals.get("auto_send"):
            self._check_may_post()
        frozen = [name for name in self._FROZEN_WHEN_INVOICED if name in vals]
        for schedule in self.filtered("period_ids") if frozen else ():
            for name in frozen:
                field = self._fields[name]
                new = field.convert_to_record(
                    field.convert_to_cache(vals[name], schedule), schedule
                )
                if schedule[name] != new:
                    raise UserError(
                        _(
                            "Schedule %(name)s has invoiced periods: its %(field)s can no longer "
                            "change. Close it and start a new one.",
                            name=schedule.name,
                            field=field.string,
                        )
                    )
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_invoiced(self):
        for schedule in self:
            if schedule.period_ids or schedule.state not in ("draft", "cancelled"):
                raise UserError(
                    _(
                        "Schedule %s has been started or invoiced: cancel it instead of deleting it.",
                        schedule.name,
                    )
                )

    # --- Rights ---

    @api.model
    def _billing_may_post(self):
        """Whether the current user may have invoices posted and sent: Invoicing
        rights or Billing Manager, as Odoo asks of whoever posts an invoice."""
        user = self.env.user
        return (
            self.env.su
            or user.has_group("account.group_account_invoice")
            or user.has_group("crm_billing.group_billing_manager")
        )

    def _check_may_post(self):
        """Refuse a user without the right to post invoices switching automatic
        posting or sending on, or starting a schedule that has them on: the nightly
        run would post and send for him."""
        if self and not self._billing_may_post():
            raise AccessError(
                _(
                    "Only users with Invoicing rights (or Billing Managers) may have the "
                    "invoices of schedule %s posted or sent automatically: switch "
                    "'Post Invoices' and 'Send Invoices' off, or ask your accountant.",
                    self[0].name,
                )
            )

    # --- Actions ---

    def action_start(self):
        for schedule in self:
            if schedule.state == "cancelled":
                raise UserError(
                    _(
                        "Schedule %s is cancelled and cannot start again; copy it instead.",
                        schedule.name,
                    )
                )
            if schedule.state != "draft":
                raise UserError(_("Only a draft schedule can start (%s is not).", schedule.name))
            schedule._check_ready()
        self.filtered(lambda s: s.auto_post or s.auto_send)._check_may_post()
        self.state = "running"
        return True

    def action_pause(self):
        not_running = self.filtered(lambda s: s.state != "running")
        if not_running:
            raise UserError(
                _("Only a running schedule can be paused (%s is not).", not_running[0].name)
            )
        self.state = "paused"
        return True

    def action_resume(self):
        not_paused = self.filtered(lambda s: s.state != "paused")
        if not_paused:
            raise UserError(_("Only a paused schedule can resume (%s is not).", not_paused[0].name))
        self.filtered(lambda s: s.auto_post or s.auto_send)._check_may_post()
        self.state = "running"
        return True

    def action_cancel(self):
        done = self.filtered(lambda s: s.state == "done")
        if done:
            raise UserError(_("Schedule %s is done and cannot be cancelled.", done[0].name))
        self.state = "cancelled"
        return True

    def action_draft(self):
        cancelled = self.filtered(lambda s: s.state != "cancelled" or s.period_ids)
        if cancelled:
            raise UserError(
                _(
                    "Only a cancelled schedule that never invoiced can return to draft (%s).",
                    cancelled[0].name,
                )
            )
        self.state = "draft"
        return True

    def action_generate_invoices(self):
        """Invoice every period due today (or before) of these schedules.

        Runs in the user's transaction: the schedules are locked first, so a cron run
        working on them at the same moment makes this wait, then find nothing left to
        invoice."""
        # a button every reader sees: invoicing changes the schedule, over RPC too
        self.check_access("write")
        not_running = self.filtered(lambda s: s.state != "running")
        if not_running:
            raise UserError(
                _("Schedule %s is not running: start or resume it first.", not_running[0].name)
            )
        self._lock_for_invoicing()
        invoices = self._generate_invoices(raise_errors=True)
        if not invoices:
            return {
                "type": "ir.actions.client",
                "tag": "display_notification",
                "params": {
                    "type": "info",
                    "message": _("Nothing is due yet: every due period is already invoiced."),
                    "next": {"type": "ir.actions.act_window_close"},
                },
            }
        return self._action_view_invoices(invoices)

    def action_charge_now(self):
        """Charge every open posted invoice of these schedules with their payment
        method, under the collection run's rules (Invoicing rights)."""
        self.env["crm.billing.charge"]._check_charge_rights()
        invoices = self.sudo().invoice_ids.filtered(
            lambda m: (
                m.move_type == "out_invoice"
                and m.state == "posted"
                and m.payment_state in ("not_paid", "partial")
            )
        )
        if not invoices:
            raise UserError(_("No posted invoice of these schedules is left to pay."))
        return invoices.with_env(self.env).action_billing_charge_now()

    def action_view_charges(self):
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "crm_billing.crm_billing_charge_action"
        )
        action["domain"] = [("schedule_id", "in", self.ids)]
        action["context"] = {"create": False}
        return action

    def action_view_invoices(self):
        return self._action_view_invoices(self.invoice_ids)

    def _action_view_invoices(self, invoices):
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account.action_move_out_invoice_type"
        )
        action["domain"] = [("id", "in", invoices.ids)]
        action["context"] = {"default_move_type": "out_invoice", "create": False}
        if len(invoices) == 1:
            action["views"] = [(self.env.ref("account.view_move_form").id, "form")]
            action["res_id"] = invoices.id
        return action

    def _check_ready(self):
        """Refuse to run a schedule that could not produce a valid invoice."""
        self.ensure_one()
        if not self.line_ids:
            raise ValidationError(
                _("Schedule %s has no lines: add what to invoice first.", self.name)
            )
        if self.schedule_type == "instalment" and self.line_ids.filtered(
            lambda line: not line.date
        ):
            raise ValidationError(_("Every instalment of %s needs a date.", self.name))
        journal = self._get_journal()
        if not journal:
            raise ValidationError(
                _(
                    "Company %(company)s has no sales journal to invoice schedule %(name)s.",
                    company=self.company_id.name,
                    name=self.name,
                )
            )

    # --- Periods ---

    def _period_kwargs(self):
        self.ensure_one()
        return {
            "date_start": self.date_start,
            "rule_type": self.rule_type,
            "interval": self.interval,
            "date_end": self.date_end,
            "align_calendar": self.align_calendar,
            "prorate": self.prorate,
        }

    def _period_invoice_date(self, period):
        return period_math.invoice_date(period, self.invoicing_mode)

    def _instalment_periods(self):
        """One period per instalment date; an instalment is 'invoiced' once on its own
        date, so the period starts and ends on that day."""
        dates = sorted(set(self.line_ids.filtered("date").mapped("date")))
        return [period_math.Period(index, day, day, 1) for index, day in enumerate(dates)]

    def _next_period(self):
        """First period not yet invoiced, or None when the schedule is over."""
        self.ensure_one()
        invoiced = set(self.period_ids.mapped("date_start"))
        if self.schedule_type == "instalment":
            return next(
                (p for p in self._instalment_periods() if p.date_start not in invoiced), None
            )
        if not (self.date_start and self.rule_type):
            return None
        for period in period_math.iter_periods(**self._period_kwargs()):
            if period.date_start not in invoiced:
                return period
        return None

    @api.model
    def _max_periods_per_run(self):
        value = (
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("crm_billing.max_periods_per_run", self._MAX_PERIODS_PER_RUN)
        )
        try:
            return max(int(value), 1)
        except (TypeError, ValueError):
            return self._MAX_PERIODS_PER_RUN

    def _due_periods(self, today, limit=None):
        """The periods of this schedule that should be invoiced by ``today`` and are
        not, oldest first, at most ``limit`` of them (the run's bound by default)."""
        self.ensure_one()
        limit = limit or self._max_periods_per_run()
        invoiced = set(self.period_ids.mapped("date_start"))
        if self.schedule_type == "instalment":
            candidates = self._instalment_periods()
        else:
            # a postpaid period is due on its last day: look one period ahead of today
            candidates = []
            for period in period_math.iter_periods(**self._period_kwargs()):
                if period.date_start > today:
                    break
                candidates.append(period)
        return [
            p
            for p in candidates
            if p.date_start not in invoiced and self._period_invoice_date(p) <= today
        ][:limit]

    # --- Invoicing ---

    def _get_journal(self):
        self.ensure_one()
        if self.journal_id:
            return self.journal_id
        # the run looks the company's default sales journal up once per batch
        default = self.env.context.get("crm_billing_default_journal")
        if default and default[0] == self.company_id.id:
            return self.env["account.journal"].browse(default[1])
        return self.env["account.journal"].search(
            [
                *self.env["account.journal"]._check_company_domain(self.company_id),
                ("type", "=", "sale"),
            ],
            limit=1,
        )

    def _prepare_invoice_vals(self, period):
        """Values of the invoice of one period; extend to add fields."""
        self.ensure_one()
        journal = self._get_journal()
        partner = self.partner_id
        vals = {
            "move_type": "out_invoice",
            "partner_id": partner.id,
            "company_id": self.company_id.id,
            "currency_id": self.currency_id.id,
            "journal_id": journal.id,
            "invoice_date": self._period_invoice_date(period),
            "invoice_origin": self.sale_order_id.name or self.name,
            "invoice_user_id": self.user_id.id,
            "billing_schedule_id": self.id,
            "narration": self.note,
            "invoice_line_ids": [
                Command.create(vals) for vals in self._prepare_invoice_lines_vals(period)
            ],
        }
        if self.payment_term_id:
            vals["invoice_payment_term_id"] = self.payment_term_id.id
        elif not partner.commercial_partner_id.with_company(
            self.company_id
        ).property_payment_term_id:
            # without payment terms an invoice is due on its date; left to Odoo, a
            # period invoiced late (a catch-up, a postpaid period) would fall due on
            # the day the run made it, and never look overdue
            vals["invoice_date_due"] = vals["invoice_date"]
        if self.fiscal_position_id:
            vals["fiscal_position_id"] = self.fiscal_position_id.id
        if self.sale_order_id:
            vals["team_id"] = self.sale_order_id.team_id.id
            vals["partner_shipping_id"] = self.sale_order_id.partner_shipping_id.id
        return vals

    def _prepare_invoice_lines_vals(self, period):
        self.ensure_one()
        if self.schedule_type == "instalment":
            lines = self.line_ids.filtered(lambda line: line.date == period.date_start)
        else:
            lines = self.line_ids
        # a line may need several invoice lines (tiers, late usage), or none
        return [vals for line in lines for vals in line._prepare_invoice_lines_vals(period)]

    def _lock_for_invoicing(self):
        """Lock these schedules' rows until the end of the transaction, waiting for
        any other transaction (a cron run, another user) that holds them."""
        if self:
            self.env.cr.execute(
                SQL(
                    "SELECT id FROM crm_billing_schedule WHERE id IN %s ORDER BY id FOR NO KEY UPDATE",
                    tuple(self.ids),
                )
            )
            self.invalidate_recordset()
            self.period_ids.invalidate_recordset()
            self.env["crm.billing.period"].invalidate_model()

    def _generate_invoices(self, today=None, raise_errors=False):
        """Invoice the due periods of these schedules, already locked by the caller.

        The whole batch is first invoiced at once, in one savepoint (one batched
        ``create`` of the invoices, one of the periods, one posting). Should anything
        fail, it is rolled back and the schedules are worked one by one, each in its
        own savepoint: a failing one is rolled back, the reason logged on its chatter,
        and the others go on (unless ``raise_errors``). Returns the invoices created.
        """
        today = today or fields.Date.context_today(self)
        invoices = self.env["account.move"]
        if len(self) > 1:
            try:
                with self.env.cr.savepoint():
                    invoices = self._invoice_due_periods(today)
            except Exception as error:
                if _is_transaction_failure(error):
                    raise
                _logger.info("Billing batch failed (%s); retrying schedule by schedule", error)
                invoices = self.env["account.move"]
            else:
                invoices._billing_after_create()
                return invoices
        for schedule in self:
            try:
                with self.env.cr.savepoint():
                    invoices |= schedule._invoice_due_periods(today)
            except Exception as error:
                if raise_errors or _is_transaction_failure(error):
                    raise
                schedule._log_invoicing_failure(error)
        invoices._billing_after_create()
        return invoices

    def _invoice_due_periods(self, today):
        """Create one invoice per due period of these schedules, and the periods that
        claim them, in batches (one per company). The unique (schedule, start) key
        refuses a period invoiced twice. Instalment plans of sales orders are invoiced
        by their order (see ``_invoice_due_instalments``)."""
        Move = self.env["account.move"]
        Period = self.env["crm.billing.period"]
        invoices = Move
        running = self.filtered(lambda s: s.state == "running")
        plans = running.filtered(lambda s: s._is_order_instalment_plan())
        for plan in plans:
            invoices |= plan.with_company(plan.company_id)._invoice_due_instalments(today)
        running -= plans
        Journal = self.env["account.journal"]
        for company, schedules in running.grouped("company_id").items():
            schedules = schedules.with_company(company)
            if not all(schedules.mapped("journal_id")):
                default_journal = Journal.with_company(company).search(
                    [*Journal._check_company_domain(company), ("type", "=", "sale")], limit=1
                )
                schedules = schedules.with_context(
                    crm_billing_default_journal=(company.id, default_journal.id)
                )
            work = [
                (schedule, period)
                for schedule in schedules
                for period in schedule._due_periods(today)
            ]
            for schedule in {schedule for schedule, _period in work}:
                schedule._check_ready()
            if not work:
                continue
            # the periods first: their unique key refuses a period invoiced twice before
            # any invoice is made, and each invoice is created with its period, sparing
            # a write per invoice (each one resyncing the invoice's lines)
            periods = Period.with_company(company).create(
                [schedule._prepare_period_vals(period, Move) for schedule, period in work]
            )
            vals_list = []
            for (schedule, period), period_record in zip(work, periods, strict=True):
                vals = schedule._prepare_invoice_vals(period)
                vals["billing_period_id"] = period_record.id
                vals_list.append(vals)
            new_invoices = Move.with_company(company).create(vals_list)
            for period_record, invoice in zip(periods, new_invoices, strict=True):
                period_record.invoice_id = invoice
            for (schedule, period), invoice in zip(work, new_invoices, strict=True):
                if schedule.schedule_type == "instalment":
                    schedule.line_ids.filtered(
                        lambda line, day=period.date_start: line.date == day
                    ).sudo().invoice_id = invoice
            new_invoices.filtered(lambda m: m.billing_schedule_id.auto_post).action_post()
            invoices |= new_invoices
        running._check_done()
        return invoices

    def _prepare_period_vals(self, period, invoice):
        return {
            "schedule_id": self.id,
            "date_start": period.date_start,
            "date_end": period.date_end,
            "invoice_date": self._period_invoice_date(period),
            "factor": float(period.factor),
            "invoice_id": invoice.id,
        }

    def _check_done(self):
        """A schedule whose every period is invoiced is done."""
        for schedule in self:
            if schedule.state == "running" and not schedule._next_period():
                schedule.state = "done"

    def _log_invoicing_failure(self, error):
        self.ensure_one()
        reason = error.args[0] if getattr(error, "args", None) else str(error)
        if isinstance(error, pg_errors.UniqueViolation):
            reason = _("a period was already invoiced by another run; nothing was invoiced twice")
        _logger.warning("Billing schedule %s not invoiced: %s", self.name, reason)
        self.message_post(
            body=_("Invoicing failed, nothing was created for this run: %s", reason),
            message_type="notification",
        )

    # --- Scheduled action ---

    @api.model
    def _get_due_schedules_domain(self, today):
        return [("state", "=", "running"), ("next_invoice_date", "<=", today)]

    @api.model
    def _claim_due_schedules(self, today, limit, exclude_ids=()):
        """Lock up to ``limit`` due schedules that no other transaction holds and return
        them; schedules locked by another worker are skipped, not waited for."""
        domain = self._get_due_schedules_domain(today)
        if exclude_ids:
            domain = [*domain, ("id", "not in", list(exclude_ids))]
        query = self.sudo()._search(domain, order="id", limit=limit)
        # execute_query flushes what the query reads first: schedules started
        # earlier in this transaction (a script, a server action) are seen
        rows = self.env.execute_query(
            SQL("%s FOR NO KEY UPDATE OF crm_billing_schedule SKIP LOCKED", query.select())
        )
        return self.browse(row[0] for row in rows)

    @api.model
    def _cron_generate_invoices(self, batch_size=None):
        """Invoice every due period of every running schedule, in committed batches.

        Several workers may run this at once: each claims its own schedules with
        ``FOR NO KEY UPDATE SKIP LOCKED`` and commits them batch by batch."""
        batch_size = batch_size or self._CRON_BATCH_SIZE
        today = fields.Date.context_today(self)
        Cron = self.env["ir.cron"]
        failed = set()
        while True:
            try:
                with self.env.cr.savepoint(flush=False):
                    schedules = self._claim_due_schedules(today, batch_size, failed)
            except pg_errors.SerializationFailure:
                # another worker committed these rows after our snapshot was taken:
                # commit nothing, take a fresh snapshot and claim again
                Cron._commit_progress(0)
                continue
            if not schedules:
                break
            self.env.invalidate_all()
            invoices = schedules._generate_invoices(today)
            failed.update(
                schedules.filtered(
                    lambda s: (
                        s.state == "running"
                        and s.next_invoice_date
                        and s.next_invoice_date <= today
                    )
                ).ids
            )
            remaining = self.sudo().search_count(self._get_due_schedules_domain(today))
            _logger.info(
                "Billing run: %d schedules, %d invoices in this batch",
                len(schedules),
                len(invoices),
            )
            if (
                Cron._commit_progress(len(schedules), remaining=max(remaining - len(failed), 0))
                <= 0
            ):
                break
        return True

    # --- Instalments ---
    # Instalment plans made from a sales order: the order builds their invoices.
    #
    # Every instalment but the last is one of sale's own down payments (a fixed amount,
    # taxes included, that sale spreads over the order's taxes); the last one is the
    # order's final invoice, which invoices the order lines and deducts those down
    # payments. The order's invoiced amounts and invoice status thus stay sale's own,
    # and after the last instalment the order is fully invoiced, nothing billed twice.
    # The plan's lines only say when and how much; products, prices and taxes come
    # from the order.

    def _is_order_instalment_plan(self):
        self.ensure_one()
        return self.schedule_type == "instalment" and bool(self.sale_order_id)

    @api.constrains("line_ids", "state", "instalment_total", "sale_order_id", "schedule_type")
    def _check_instalment_plan(self):
        """An open plan of an order adds up to its total to the cent, falls due on or
        after the order date, and is the order's only open plan."""
        plans = self.filtered(
            lambda s: s._is_order_instalment_plan() and s.state not in ("done", "cancelled")
        )
        others = (
            self.search(
                [
                    ("sale_order_id", "in", plans.sale_order_id.ids),
                    ("schedule_type", "=", "instalment"),
                    ("state", "not in", ("done", "cancelled")),
                ]
            )
            if plans
            else self.browse()
        )
        for plan in plans:
            order = plan.sale_order_id
            if order.state == "cancel":
                raise ValidationError(
                    _("Order %s is cancelled: it cannot be invoiced in instalments.", order.name)
                )
            if others.filtered(lambda s, p=plan: s.sale_order_id == p.sale_order_id and s != p):
                raise ValidationError(
                    _(
                        "Order %s already has an instalment plan: cancel it before making another.",
                        order.name,
                    )
                )
            plan._check_instalment_lines()

    def _check_instalment_lines(self):
        self.ensure_one()
        order = self.sale_order_id
        currency = self.currency_id
        lines = self.line_ids
        if not lines:
            raise ValidationError(_("Instalment plan %s has no instalments.", self.name))
        order_date = order._billing_order_date()
        for line in lines:
            if not line.date:
                raise ValidationError(_("Every instalment of %s needs a date.", self.name))
            if line.date < order_date:
                raise ValidationError(
                    _(
                        "Instalment %(line)s falls due on %(date)s, before order %(order)s "
                        "was placed on %(order_date)s.",
                        line=line.name,
                        date=line.date,
                        order=order.name,
                        order_date=order_date,
                    )
                )
            if currency.compare_amounts(line.amount, 0.0) <= 0:
                raise ValidationError(
                    _(
                        "Instalment %(line)s of %(plan)s has no amount.",
                        line=line.name,
                        plan=self.name,
                    )
                )
        total = sum(lines.mapped("amount"))
        if currency.compare_amounts(total, self.instalment_total) != 0:
            raise ValidationError(
                _(
                    "The instalments of %(plan)s add up to %(total)s, not to the %(expected)s "
                    "left to invoice on order %(order)s (taxes included).",
                    plan=self.name,
                    total=currency.format(total),
                    expected=currency.format(self.instalment_total),
                    order=order.name,
                )
            )

    def _invoice_due_instalments(self, today):
        """Invoice the due instalments of this order plan, oldest first: down payments,
        then the order's final invoice for the last one."""
        self.ensure_one()
        Move = self.env["account.move"]
        due = self._due_periods(today)
        if not due:
            self._check_done()
            return Move
        self._check_ready()
        self._check_instalment_plan()
        last_day = self._instalment_periods()[-1].date_start
        invoices = Move
        for period in due:
            lines = self.line_ids.filtered(lambda line, d=period.date_start: line.date == d)
            if period.date_start == last_day:
                invoice = self._create_final_instalment_invoice(period)
            else:
                invoice = self._create_instalment_down_payment(period, lines)
            invoice_sudo = invoice.sudo()
            invoice_vals = {
                "billing_schedule_id": self.id,
                "invoice_date": self._period_invoice_date(period),
            }
            if self.journal_id and invoice_sudo.journal_id != self.journal_id:
                invoice_vals["journal_id"] = self.journal_id.id
            invoice_sudo.write(invoice_vals)
            # periods are the run's own bookkeeping: whoever triggers the run (a sales
            # rep invoicing a deposit) records them, like sale creates its invoices
            period_record = (
                self.env["crm.billing.period"]
                .sudo()
                .create(self._prepare_period_vals(period, invoice))
            )
            invoice_sudo.billing_period_id = period_record
            lines.sudo().invoice_id = invoice
            invoices |= invoice
        if self.auto_post:
            invoices.sudo().action_post()
        self._check_done()
        return invoices

    def _create_instalment_down_payment(self, period, lines):
        """One of sale's down payments, for the amount (taxes included) of ``lines``."""
        order = self.sale_order_id
        amount = self.currency_id.round(sum(lines.mapped("amount")))
        if self.currency_id.compare_amounts(amount, order._billing_amount_left()) > 0:
            raise UserError(
                _(
                    "Instalment of %(date)s of %(plan)s (%(amount)s) exceeds what is left to "
                    "invoice on order %(order)s.",
                    date=period.date_start,
                    plan=self.name,
                    amount=self.currency_id.format(amount),
                    order=order.name,
                )
            )
        wizard = (
            self.env["sale.advance.payment.inv"]
            .with_context(active_model="sale.order", active_ids=order.ids)
            .create(
                {
                    "advance_payment_method": "fixed",
                    "fixed_amount": amount,
                    "sale_order_ids": [Command.set(order.ids)],
                }
            )
        )
        return wizard._create_invoices(order)

    def _create_final_instalment_invoice(self, period):
        """The order's final invoice: every order line, less the down payments."""
        order = self.sale_order_id
        precision = self.env["decimal.precision"].precision_get("Product Unit")
        waiting = order.order_line.filtered(
            lambda line: (
                not line.display_type
                and not line.is_downpayment
                and round(line.product_uom_qty - line.qty_invoiced - line.qty_to_invoice, precision)
                > 0
            )
        )
        if waiting:
            raise UserError(
                _(
                    "The last instalment of %(plan)s waits until order %(order)s can be fully "
                    "invoiced (not yet delivered: %(products)s).",
                    plan=self.name,
                    order=order.name,
                    products=", ".join(waiting.mapped("product_id.display_name")),
                )
            )
        return order._create_invoices(final=True)
