# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from dateutil.relativedelta import relativedelta

from odoo import Command, _, api, fields, models
from odoo.exceptions import UserError, ValidationError

from ..models.billing_period_math import RULE_TYPE_SELECTION


class CrmBillingScheduleWizard(models.TransientModel):
    """How to turn a confirmed order into invoices: all now, in instalments, or as a
    recurring schedule of its subscription products."""

    _name = "crm.billing.schedule.wizard"
    _description = "Bill a Sales Order"

    sale_order_id = fields.Many2one("sale.order", required=True, readonly=True)
    company_id = fields.Many2one(related="sale_order_id.company_id")
    currency_id = fields.Many2one(related="sale_order_id.currency_id")
    partner_id = fields.Many2one(related="sale_order_id.partner_invoice_id", string="Customer")
    amount_total = fields.Monetary(related="sale_order_id.amount_total", string="Order Total")
    amount_left = fields.Monetary(
        string="Left to Invoice",
        compute="_compute_amount_left",
        help="Order total less what is already invoiced for it, taxes included.",
    )
    billing_mode = fields.Selection(
        [
            ("now", "Invoice everything now"),
            ("instalment", "In instalments"),
            ("recurring", "Recurring schedule"),
        ],
        string="Bill",
        required=True,
        default="instalment",
    )
    # instalments
    instalment_ids = fields.One2many(
        "crm.billing.schedule.wizard.line", "wizard_id", string="Instalments"
    )
    amount_planned = fields.Monetary(compute="_compute_amount_planned", string="Planned")
    amount_unplanned = fields.Monetary(compute="_compute_amount_planned", string="Not Planned")
    auto_post = fields.Boolean(
        string="Post Invoices",
        default=lambda self: self.env["crm.billing.schedule"]._billing_may_post(),
        help="Post each instalment invoice as soon as it falls due (needs Invoicing rights).",
    )
    # recurring
    recurring_line_ids = fields.Many2many(
        "sale.order.line",
        string="Recurring Lines",
        domain="[('order_id', '=', sale_order_id), ('display_type', '=', False), "
        "('is_downpayment', '=', False)]",
    )
    rule_type = fields.Selection(
        RULE_TYPE_SELECTION,
        string="Recurrence",
        default="monthly",
    )
    interval = fields.Integer(string="Every", default=1)
    date_start = fields.Date(string="Start Date", default=fields.Date.context_today)
    date_end = fields.Date(string="End Date")
    invoicing_mode = fields.Selection(
        [("prepaid", "In advance (prepaid)"), ("postpaid", "In arrears (postpaid)")],
        default="prepaid",
    )

    @api.model
    def default_get(self, fields_list):
        vals = super().default_get(fields_list)
        order = self.env["sale.order"].browse(vals.get("sale_order_id"))
        if not order:
            return vals
        order._crm_billing_check_billable()
        order._crm_billing_check_unplanned()
        recurring = order._crm_billing_recurring_lines()
        rule_type, interval = order._crm_billing_proposed_recurrence()
        today = fields.Date.context_today(self)
        vals.update(
            billing_mode="recurring" if recurring else "instalment",
            recurring_line_ids=[Command.set(recurring.ids)],
            rule_type=rule_type,
            interval=interval,
            instalment_ids=[
                Command.create(line) for line in self._propose_instalments(order, today)
            ],
        )
        return vals

    @api.model
    def _propose_instalments(self, order, today):
        """A deposit of 30% today and the balance in 30 days; extend to propose
        another plan."""
        left = order._crm_billing_amount_left()
        deposit = order.currency_id.round(left * 0.3)
        return [
            {
                "sequence": 1,
                "name": _("Deposit"),
                "date": today,
                "value_type": "percent",
                "percent": 30.0,
                "amount": deposit,
            },
            {
                "sequence": 2,
                "name": _("Balance"),
                "date": today + relativedelta(days=30),
                "value_type": "percent",
                "percent": 70.0,
                "amount": left - deposit,
            },
        ]

    @api.depends("sale_order_id")
    def _compute_amount_left(self):
        for wizard in self:
            wizard.amount_left = (
                wizard.sale_order_id._crm_billing_amount_left() if wizard.sale_order_id else 0.0
            )

    @api.depends("instalment_ids.amount", "amount_left")
    def _compute_amount_planned(self):
        for wizard in self:
            wizard.amount_planned = sum(wizard.instalment_ids.mapped("amount"))
            wizard.amount_unplanned = wizard.amount_left - wizard.amount_planned

    # --- Instalments ---

    def _instalment_amounts(self):
        """Exact amount of each instalment, to the cent: percentages of what is left
        are rounded, and when they add up to 100% the last one takes the rounding
        difference so that the plan adds up to the order total exactly."""
        self.ensure_one()
        currency = self.currency_id
        left = self.amount_left
        lines = self.instalment_ids.sorted(
            lambda line: (line.date or fields.Date.today(), line.sequence, line.id)
        )
        amounts = {}
        for line in lines:
            if line.value_type == "percent":
                amounts[line] = currency.round(left * line.percent / 100.0)
            else:
                amounts[line] = currency.round(line.amount)
        percent_lines = lines.filtered(lambda line: line.value_type == "percent")
        share = sum(
            line.percent
            if line.value_type == "percent"
            else (line.amount / left * 100.0 if left else 0.0)
            for line in lines
        )
        gap = currency.round(left - sum(amounts.values()))
        if (
            percent_lines
            and abs(share - 100.0) < 0.0001
            and abs(gap) <= currency.rounding * len(lines)
        ):
            amounts[percent_lines[-1]] = currency.round(amounts[percent_lines[-1]] + gap)
        return amounts

    def _check_instalments(self, amounts):
        self.ensure_one()
        self.sale_order_id._billing_check_instalments(
            [(line.name or line.sequence, line.date, amount) for line, amount in amounts.items()],
            self.amount_left,
        )

    def _prepare_instalment_schedule_vals(self, amounts):
        """Values of the instalment plan: its lines only say when and how much, the
        order brings products, prices and taxes."""
        self.ensure_one()
        order = self.sale_order_id
        currency = self.currency_id
        # untaxed share of each instalment, so the plan shows its untaxed amount too
        ratio = order.amount_untaxed / order.amount_total if order.amount_total else 1.0
        untaxed_left = currency.round(self.amount_left * ratio)
        lines = list(amounts.items())
        line_vals = []
        untaxed_done = 0.0
        for index, (line, amount) in enumerate(lines, start=1):
            if index == len(lines):
                untaxed = currency.round(untaxed_left - untaxed_done)
            else:
                untaxed = currency.round(amount * ratio)
                untaxed_done += untaxed
            percent = amount / self.amount_left * 100.0
            name = line.name or _("Instalment %s", index)
            line_vals.append(
                Command.create(
                    {
                        "sequence": index,
                        "name": _(
                            "%(name)s (%(percent)s%%)",
                            name=name,
                            percent=f"{percent:.2f}".rstrip("0").rstrip("."),
                        ),
                        "date": line.date,
                        "percent": min(percent, 100.0),
                        "amount": amount,
                        "quantity": 1.0,
                        "price_unit": untaxed,
                    }
                )
            )
        return {
            "schedule_type": "instalment",
            "partner_id": order.partner_invoice_id.id,
            "company_id": order.company_id.id,
            "currency_id": order.currency_id.id,
            "sale_order_id": order.id,
            "user_id": order.user_id.id or self.env.user.id,
            "payment_term_id": order.payment_term_id.id,
            "fiscal_position_id": order.fiscal_position_id.id,
            "date_start": min(line.date for line in amounts),
            "auto_post": self.auto_post,
            "instalment_total": self.amount_left,
            "line_ids": line_vals,
        }

    # --- Actions ---

    def action_confirm(self):
        self.ensure_one()
        self.sale_order_id._crm_billing_check_billable()
        return getattr(self, f"_action_bill_{self.billing_mode}")()

    def _open_recurring_schedules(self):
        """The order's recurring schedules that still bill its lines."""
        self.ensure_one()
        return (
            self.env["crm.billing.schedule"]
            .sudo()
            .search(
                [
                    ("sale_order_id", "=", self.sale_order_id.id),
                    ("schedule_type", "=", "recurring"),
                    ("state", "not in", ("done", "cancelled")),
                ]
            )
        )

    def _action_bill_now(self):
        """Sale's own invoicing: every invoiceable line, less the down payments."""
        order = self.sale_order_id
        recurring = self._open_recurring_schedules()
        if recurring:
            raise UserError(
                _(
                    "Order %(order)s is billed by recurring schedule %(schedule)s: its lines "
                    "are invoiced period by period, not all at once. Cancel the schedule "
                    "first to invoice the order now.",
                    order=order.name,
                    schedule=recurring[0].name,
                )
            )
        invoices = order._create_invoices(final=True)
        return order.action_view_invoice(invoices=invoices)

    def _action_bill_instalment(self):
        order = self.sale_order_id
        amounts = self._instalment_amounts()
        self._check_instalments(amounts)
        Schedule = self.env["crm.billing.schedule"]
        schedule = Schedule.create(self._prepare_instalment_schedule_vals(amounts))
        schedule.action_start()
        order.message_post(
            body=_("Instalment plan %s made for this order.", schedule._get_html_link()),
        )
        if schedule.next_invoice_date and schedule.next_invoice_date <= fields.Date.context_today(
            self
        ):
            # the deposit falls due today: invoice it now, as the run would tonight
            invoices = schedule._generate_invoices(raise_errors=True)
            return self._action_show_invoices(schedule, invoices)
        return self._action_open_schedule(schedule)

    def _action_show_invoices(self, schedule, invoices):
        """Land the seller on the new schedule, told at once what was invoiced."""
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "title": _("Instalment plan %s", schedule.name),
                "message": _(
                    "Deposit invoiced: %(invoices)s, %(amount)s.",
                    invoices=", ".join(invoices.sudo().mapped("display_name")),
                    amount=schedule.currency_id.format(sum(invoices.sudo().mapped("amount_total"))),
                ),
                "next": self._action_open_schedule(schedule),
            },
        }

    def _action_bill_recurring(self):
        order = self.sale_order_id
        if not self.recurring_line_ids:
            raise ValidationError(_("Choose the order lines to bill on a recurring schedule."))
        self.env["crm.billing.schedule"]._check_recurrence_values(
            self.interval, self.date_start, self.date_end
        )
        billed = self._open_recurring_schedules().line_ids.sale_line_id
        for line in self.recurring_line_ids.sudo():
            if line in billed:
                raise ValidationError(
                    _(
                        "Order line %(line)s is already billed by a recurring schedule of "
                        "order %(order)s: cancel that schedule before making another.",
                        line=line.display_name,
                        order=order.name,
                    )
                )
            if line.invoice_lines.filtered(
                lambda aml: aml.move_id.state != "cancel" and not aml.move_id.billing_schedule_id
            ):
                raise ValidationError(
                    _(
                        "Order line %(line)s is already invoiced: it cannot also be billed "
                        "on a recurring schedule.",
                        line=line.display_name,
                    )
                )
        vals = order._prepare_billing_schedule_vals(self.recurring_line_ids)
        vals.update(
            schedule_type="recurring",
            rule_type=self.rule_type,
            interval=self.interval,
            date_start=self.date_start,
            date_end=self.date_end,
            invoicing_mode=self.invoicing_mode,
        )
        schedule = self.env["crm.billing.schedule"].create(vals)
        return self._action_open_schedule(schedule)

    def _action_open_schedule(self, schedule):
        return {
            "type": "ir.actions.act_window",
            "res_model": "crm.billing.schedule",
            "res_id": schedule.id,
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "current",
        }


class CrmBillingScheduleWizardLine(models.TransientModel):
    _name = "crm.billing.schedule.wizard.line"
    _description = "Instalment to Plan"
    _order = "sequence, id"

    wizard_id = fields.Many2one("crm.billing.schedule.wizard", required=True, ondelete="cascade")
    currency_id = fields.Many2one(related="wizard_id.currency_id")
    sequence = fields.Integer(default=10)
    name = fields.Char(string="Instalment")
    date = fields.Date(string="Invoiced On", required=True, default=fields.Date.context_today)
    value_type = fields.Selection(
        [("percent", "Percentage"), ("amount", "Amount")],
        string="By",
        default="percent",
        required=True,
    )
    percent = fields.Float(string="Share (%)", digits=(16, 4))
    amount = fields.Monetary(help="Taxes included.")

    @api.onchange("percent", "value_type")
    def _onchange_percent(self):
        if self.value_type == "percent":
            self.amount = self.currency_id.round(self.wizard_id.amount_left * self.percent / 100.0)

    @api.onchange("amount", "value_type")
    def _onchange_amount(self):
        left = self.wizard_id.amount_left
        if self.value_type == "amount" and left:
            self.percent = self.amount / left * 100.0
