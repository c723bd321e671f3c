# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The billing schedule: what it invoices, to whom, how often, and its states.

Its other jobs live beside it, on the same model: the invoicing engine (periods,
the locking batch run, invoice values) in ``crm_billing_schedule_engine.py``, the
instalment plans of sales orders in ``sale_order_billing_plan.py``, and the
lifecycle (changes, closing, renewal, portal, usage) in ``crm_billing_schedule_*.py``.
"""

import psycopg2

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

from . import billing_period_math as period_math


def _is_transaction_failure(error):
    """Errors that doom the whole transaction (serialization failures, deadlocks,
    lost connections): they must reach the caller, not be logged per record."""
    return isinstance(error, psycopg2.OperationalError)


class CrmBillingSchedule(models.Model):
    _name = "crm.billing.schedule"
    _description = "Billing Schedule"
    _inherit = ["mail.thread", "mail.activity.mixin", "portal.mixin"]
    _order = "next_invoice_date, id desc"
    _check_company_auto = True

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
        summary = self._invoiced_periods_summary()
        for schedule in self:
            live = schedule.state in ("draft", "running", "paused")
            if not live or not period_math.is_valid_interval(schedule.interval):
                schedule.next_invoice_date = False
                continue
            period = schedule._next_period(summary)
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
                or not period_math.is_valid_interval(schedule.interval)
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

    @api.constrains("interval", "date_start", "date_end")
    def _check_recurrence(self):
        for schedule in self:
            schedule._check_recurrence_values(
                schedule.interval, schedule.date_start, schedule.date_end, schedule.name
            )

    @api.model
    def _check_recurrence_values(self, interval, date_start, date_end, name=None):
        """The one check of a recurrence: every 1 period or more, ending (if ever) on
        or after its start; for the schedule and every wizard that makes one."""
        if not period_math.is_valid_interval(interval):
            if name:
                raise ValidationError(
                    _("Schedule %s: invoices recur every 1 period or more.", name)
                )
            raise ValidationError(_("Invoices recur every 1 period or more."))
        if period_math.ends_before_start(date_start, date_end):
            if name:
                raise ValidationError(
                    _(
                        "Schedule %(name)s ends on %(end)s, before it starts on %(start)s.",
                        name=name,
                        end=date_end,
                        start=date_start,
                    )
                )
            raise ValidationError(_("The schedule cannot end before it starts."))

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
        for vals in vals_list:
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
