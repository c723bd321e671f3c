# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import _, fields, models


class ResPartner(models.Model):
    _inherit = "res.partner"

    billing_schedule_ids = fields.One2many(
        "crm.billing.schedule", "partner_id", string="Billing Schedules"
    )
    billing_schedule_count = fields.Integer(
        compute="_compute_billing_figures", groups="crm_billing.group_billing_user"
    )
    billing_mrr = fields.Monetary(
        string="Recurring Revenue (MRR)",
        compute="_compute_billing_figures",
        currency_field="billing_currency_id",
        groups="crm_billing.group_billing_user",
        help="Monthly recurring revenue of the customer's running schedules, in company currency.",
    )
    billing_overdue_amount = fields.Monetary(
        string="Overdue",
        compute="_compute_billing_overdue_amount",
        currency_field="billing_currency_id",
        groups="account.group_account_invoice,crm_billing.group_billing_user",
        help="What the customer owes on posted invoices past their due date, in company currency.",
    )
    billing_currency_id = fields.Many2one("res.currency", compute="_compute_billing_currency_id")
    billing_statement_monthly = fields.Boolean(
        string="Monthly Statement",
        company_dependent=True,
        help="Email this customer its activity statement every month. Unless set here, "
        "the company's default applies (Settings > Invoicing).",
    )
    billing_reminder_excluded = fields.Boolean(
        string="No Payment Reminders",
        company_dependent=True,
        help="Never send payment reminders to this customer.",
    )
    billing_days_late = fields.Float(
        string="Average Days Paid Late",
        compute="_compute_billing_payment_behaviour",
        digits=(16, 1),
        groups="crm_billing.group_billing_user",
        help="Over the customer's paid invoices: days from due date to payment, "
        "0 for an invoice paid on time.",
    )
    billing_on_time_rate = fields.Float(
        string="Paid on Time (%)",
        compute="_compute_billing_payment_behaviour",
        digits=(16, 1),
        groups="crm_billing.group_billing_user",
        help="Share of the customer's paid invoices paid by their due date.",
    )
    billing_paid_invoice_count = fields.Integer(
        string="Paid Invoices",
        compute="_compute_billing_payment_behaviour",
        groups="crm_billing.group_billing_user",
    )

    billing_opportunity_ids = fields.Many2many(
        "crm.lead",
        string="Open Opportunities",
        compute="_compute_billing_pipeline",
        groups="sales_team.group_sale_salesman",
    )
    billing_quotation_ids = fields.Many2many(
        "sale.order",
        string="Open Quotations",
        compute="_compute_billing_pipeline",
        groups="sales_team.group_sale_salesman",
    )
    billing_invoice_ids = fields.Many2many(
        "account.move",
        string="Customer Invoices",
        compute="_compute_billing_pipeline",
        groups="sales_team.group_sale_salesman",
    )
    billing_reminder_count = fields.Integer(
        string="Payment Reminders",
        compute="_compute_billing_reminder_figures",
        groups="crm_billing.group_billing_user",
    )
    billing_reminder_last_date = fields.Date(
        string="Last Payment Reminder",
        compute="_compute_billing_reminder_figures",
        groups="crm_billing.group_billing_user",
    )
    billing_reminder_level_id = fields.Many2one(
        "crm.billing.reminder.level",
        string="Reminder Level",
        compute="_compute_billing_reminder_figures",
        groups="crm_billing.group_billing_user",
        help="The highest reminder level among the customer's invoices still to be paid.",
    )

    def _compute_billing_currency_id(self):
        self.billing_currency_id = self.env.company.currency_id

    def _crm_billing_commercial_groups(self):
        """Map each partner to its commercial entity: billing figures are the
        commercial entity's, shown on every contact of it."""
        return {partner: partner.commercial_partner_id for partner in self}

    def _compute_billing_figures(self):
        commercial = self._crm_billing_commercial_groups()
        Schedule = self.env["crm.billing.schedule"]
        groups = Schedule._read_group(
            [("commercial_partner_id", "in", [p.id for p in commercial.values()])],
            ["commercial_partner_id", "state"],
            ["__count", "mrr:sum"],
        )
        count = {}
        mrr = {}
        for partner, state, n, total in groups:
            count[partner] = count.get(partner, 0) + n
            if state == "running":
                mrr[partner] = mrr.get(partner, 0.0) + total
        for partner in self:
            entity = commercial[partner]
            partner.billing_schedule_count = count.get(entity, 0)
            partner.billing_mrr = mrr.get(entity, 0.0)

    def _compute_billing_overdue_amount(self):
        commercial = self._crm_billing_commercial_groups()
        today = fields.Date.context_today(self)
        groups = self.env["account.move.line"]._read_group(
            [
                ("partner_id", "in", [p.id for p in commercial.values()]),
                ("company_id", "in", self.env.companies.ids),
                ("account_type", "=", "asset_receivable"),
                ("parent_state", "=", "posted"),
                ("reconciled", "=", False),
                ("date_maturity", "<", today),
            ],
            ["partner_id"],
            ["amount_residual:sum"],
        )
        overdue = dict(groups)
        for partner in self:
            partner.billing_overdue_amount = overdue.get(commercial[partner], 0.0)

    def action_view_billing_schedules(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "crm_billing.crm_billing_schedule_action"
        )
        action["domain"] = [("commercial_partner_id", "=", self.commercial_partner_id.id)]
        action["context"] = {"default_partner_id": self.id}
        return action

    # --- Billing tab: pipeline and invoices of the customer ---

    def _compute_billing_pipeline(self):
        """Open opportunities and quotations, and the invoices, of each partner's
        commercial entity: one search per model for all the partners."""
        commercial = self._crm_billing_commercial_groups()
        entity_ids = [p.id for p in commercial.values()]
        leads = (
            self.env["crm.lead"]
            .search(
                [
                    ("partner_id.commercial_partner_id", "in", entity_ids),
                    ("type", "=", "opportunity"),
                    ("won_status", "=", "pending"),
                ]
            )
            .grouped(lambda lead: lead.partner_id.commercial_partner_id)
        )
        quotations = (
            self.env["sale.order"]
            .search(
                [
                    ("partner_id.commercial_partner_id", "in", entity_ids),
                    ("state", "in", ("draft", "sent")),
                ]
            )
            .grouped(lambda order: order.partner_id.commercial_partner_id)
        )
        invoices = (
            self.env["account.move"]
            .search(
                [
                    ("commercial_partner_id", "in", entity_ids),
                    ("move_type", "in", ("out_invoice", "out_refund")),
                    ("state", "!=", "cancel"),
                ]
            )
            .grouped("commercial_partner_id")
        )
        Lead, Order, Move = self.env["crm.lead"], self.env["sale.order"], self.env["account.move"]
        for partner in self:
            entity = commercial[partner]
            partner.billing_opportunity_ids = leads.get(entity, Lead)
            partner.billing_quotation_ids = quotations.get(entity, Order)
            partner.billing_invoice_ids = invoices.get(entity, Move)

    def _compute_billing_payment_behaviour(self):
        """Payment behaviour of the commercial entity, from the payment analysis
        (read as superuser: billing users see it here without the manager's
        reports, limited to the companies they work in)."""
        commercial = self._crm_billing_commercial_groups()
        groups = (
            self.env["crm.billing.payment.report"]
            .sudo()
            ._read_group(
                [
                    ("partner_id", "in", [p.id for p in commercial.values()]),
                    ("company_id", "in", self.env.companies.ids),
                ],
                ["partner_id"],
                ["__count", "days_late:avg", "on_time_rate:avg"],
            )
        )
        behaviour = {partner.id: (count, late, rate) for partner, count, late, rate in groups}
        for partner in self:
            count, late, rate = behaviour.get(commercial[partner].id, (0, 0.0, 0.0))
            partner.billing_paid_invoice_count = count
            partner.billing_days_late = late or 0.0
            partner.billing_on_time_rate = rate or 0.0

    # --- Payment reminders ---

    def _compute_billing_reminder_figures(self):
        commercial = self._crm_billing_commercial_groups()
        entity_ids = list({p.id for p in commercial.values()})
        companies = self.env.companies
        reminders = {
            partner: (count, last)
            for partner, count, last in self.env["crm.billing.reminder"]._read_group(
                [("partner_id", "in", entity_ids), ("company_id", "in", companies.ids)],
                ["partner_id"],
                ["__count", "date:max"],
            )
        }
        # the level is shown to billing users who may not read invoices themselves
        levels = {}
        for partner, level in (
            self.env["account.move"]
            .sudo()
            ._read_group(
                [
                    ("commercial_partner_id", "in", entity_ids),
                    ("company_id", "in", companies.ids),
                    ("move_type", "=", "out_invoice"),
                    ("state", "=", "posted"),
                    ("payment_state", "in", ("not_paid", "partial")),
                    ("reminder_level_id", "!=", False),
                ],
                ["commercial_partner_id", "reminder_level_id"],
            )
        ):
            current = levels.get(partner)
            if not current or level.days > current.days:
                levels[partner] = level
        Level = self.env["crm.billing.reminder.level"]
        for partner in self:
            entity = commercial[partner]
            count, last = reminders.get(entity, (0, False))
            partner.billing_reminder_count = count
            partner.billing_reminder_last_date = last
            partner.billing_reminder_level_id = (
                Level.browse(levels[entity].id) if entity in levels else Level
            )

    def action_view_billing_reminders(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "crm_billing.crm_billing_reminder_action"
        )
        action["domain"] = [("partner_id", "=", self.commercial_partner_id.id)]
        action["context"] = {}
        return action

    def action_billing_statement(self):
        """Open the statement wizard (print or send) on these customers."""
        return {
            "type": "ir.actions.act_window",
            "name": _("Customer Statement"),
            "res_model": "crm.billing.statement.wizard",
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
            "context": {"default_partner_ids": self.ids},
        }

    def _get_report_base_filename(self):
        """File name of the customer statement (the portal's downloads use it)."""
        self.ensure_one()
        return _("Statement %s", self.name)

    def action_view_billing_statements(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "crm_billing.crm_billing_statement_action"
        )
        action["domain"] = [("partner_id", "=", self.commercial_partner_id.id)]
        action["context"] = {}
        return action

    def action_billing_send_reminder(self):
        """Open the reminder wizard on these customers, under the same rules as the
        daily run."""
        return self.env["crm.billing.reminder.send"]._action_open(partners=self)
