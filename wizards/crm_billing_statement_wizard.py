# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from dateutil.relativedelta import relativedelta

from odoo import Command, _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import date_utils

from ..report.crm_billing_statement_report import STATEMENT_TYPES


class CrmBillingStatementWizard(models.TransientModel):
    """Print or email the statements of the customers chosen (from the customer form
    or list): the outstanding items at a date, or the activity of a period."""

    _name = "crm.billing.statement.wizard"
    _description = "Print or Send Customer Statements"

    partner_ids = fields.Many2many("res.partner", string="Customers", required=True)
    statement_type = fields.Selection(STATEMENT_TYPES, required=True, default="outstanding")
    date_from = fields.Date(
        string="From",
        default=lambda self: (
            date_utils.start_of(fields.Date.context_today(self), "month") - relativedelta(months=1)
        ),
    )
    date_to = fields.Date(string="Date", required=True, default=fields.Date.context_today)
    include_zero_balance = fields.Boolean(
        string="Include Zero Balance",
        help="Also print or send the statement of customers who owe nothing and, "
        "for an activity statement, had no transaction in the period.",
    )
    company_id = fields.Many2one(
        "res.company", required=True, readonly=True, default=lambda self: self.env.company
    )

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        context = self.env.context
        if (
            "partner_ids" in fields_list
            and not values.get("partner_ids")
            and context.get("active_model") == "res.partner"
        ):
            values["partner_ids"] = [Command.set(context.get("active_ids") or [])]
        return values

    @api.constrains("statement_type", "date_from", "date_to")
    def _check_dates(self):
        for wizard in self:
            if wizard.statement_type != "activity":
                continue
            if not wizard.date_from:
                raise ValidationError(_("An activity statement needs the first day of its period."))
            if wizard.date_from > wizard.date_to:
                raise ValidationError(
                    _(
                        "The statement cannot start on %(start)s, after its end on %(end)s.",
                        start=wizard.date_from,
                        end=wizard.date_to,
                    )
                )

    def _get_options(self):
        self.ensure_one()
        return {
            "statement_type": self.statement_type,
            "date_from": self.date_from if self.statement_type == "activity" else False,
            "date_to": self.date_to,
            "include_zero_balance": self.include_zero_balance,
        }

    def _get_customers(self):
        """The commercial partners of the customers chosen, after checking that the
        user may read each of them."""
        self.ensure_one()
        # the customers as chosen, including those the user may not read: refused
        partners = self.sudo().partner_ids.sudo(self.env.su)
        if not partners:
            raise UserError(_("Choose the customers whose statements you want."))
        partners.check_access("read")
        return partners.commercial_partner_id

    def _get_statements(self, customers):
        """The non-empty statements of ``customers`` (all of them with the zero-balance
        option), in the wizard's company."""
        self.ensure_one()
        Report = self.env["report.crm_billing.report_statement"]
        Report._check_statement_access(customers)
        statements = Report.sudo()._get_statements(
            customers, self._get_options(), company=self.company_id
        )
        if not self.include_zero_balance:
            statements = {p: s for p, s in statements.items() if not Report._is_empty(s)}
        if not statements:
            raise UserError(
                _(
                    "Nothing to print or send: the customers chosen owe nothing and had no "
                    "transaction in the period. Tick Include Zero Balance to have their "
                    "statements anyway."
                )
            )
        return statements

    def action_print(self):
        self.ensure_one()
        customers = self._get_customers()
        statements = self._get_statements(customers)
        partners = customers.filtered(lambda p: p in statements)
        options = self._get_options()
        data = {
            "statement_type": options["statement_type"],
            "date_from": fields.Date.to_string(options["date_from"]) or False,
            "date_to": fields.Date.to_string(options["date_to"]),
        }
        return (
            self.env.ref("crm_billing.action_report_statement")
            .with_company(self.company_id)
            .report_action(partners, data=data)
        )

    def action_send(self):
        """One email per customer, the statement's PDF attached."""
        self.ensure_one()
        customers = self._get_customers()
        statements = self._get_statements(customers)
        partners = customers.filtered(lambda p: p in statements)
        without_email = partners.filtered(
            lambda p: (
                not p.email
                and not self.env["res.partner"].browse(p.address_get(["invoice"])["invoice"]).email
            )
        )
        if without_email:
            raise UserError(
                _(
                    "These customers have no email address; add one, or leave them out, "
                    "to send the statements: %s",
                    ", ".join(without_email.mapped("display_name")),
                )
            )
        sent = (
            self.env["crm.billing.statement"]
            .with_company(self.company_id)
            ._send_statements(partners, self._get_options(), manual=True, raise_errors=True)
        )
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": _("%s statement(s) sent.", len(sent)),
                "next": {"type": "ir.actions.act_window_close"},
            },
        }
