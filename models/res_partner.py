# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models


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
    billing_currency_id = fields.Many2one(
        "res.currency", compute="_compute_billing_currency_id"
    )
    billing_reminder_excluded = fields.Boolean(
        string="No Payment Reminders",
        company_dependent=True,
        help="Never send payment reminders to this customer.",
    )

    def _compute_billing_currency_id(self):
        self.billing_currency_id = self.env.company.currency_id

    def _billing_commercial_groups(self):
        """Map each partner to its commercial entity: billing figures are the
        commercial entity's, shown on every contact of it."""
        return {partner: partner.commercial_partner_id for partner in self}

    def _compute_billing_figures(self):
        commercial = self._billing_commercial_groups()
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
        commercial = self._billing_commercial_groups()
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
