# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import contextlib

from odoo import Command, _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import format_amount

from ..models.crm_billing_reminder_level import REMINDER_CHANNEL_SELECTION


class CrmBillingReminderSend(models.TransientModel):
    """Send payment reminders by hand, to the customers or about the invoices chosen,
    under the rules of the daily run, after a preview of what will be sent."""

    _name = "crm.billing.reminder.send"
    _description = "Send Payment Reminders"

    partner_ids = fields.Many2many("res.partner", string="Customers", readonly=True)
    invoice_ids = fields.Many2many("account.move", string="Invoices", readonly=True)
    date = fields.Date(readonly=True, default=fields.Date.context_today)
    customer_count = fields.Integer(string="Customers to Remind", readonly=True)
    summary = fields.Html(readonly=True, sanitize=False)
    preview_partner_id = fields.Many2one("res.partner", string="Preview For", readonly=True)
    preview_level_id = fields.Many2one("crm.billing.reminder.level", string="Level", readonly=True)
    preview_channel = fields.Selection(
        REMINDER_CHANNEL_SELECTION,
        string="Channel",
        readonly=True,
    )
    preview_recipients = fields.Char(string="To", readonly=True)
    preview_subject = fields.Char(string="Subject", readonly=True)
    # rendered by the level's template, which is sanitized when it is saved
    preview_body = fields.Html(string="Message", readonly=True, sanitize=False)

    @api.model_create_multi
    def create(self, vals_list):
        """Whatever a client sends, a reminder sent by hand is sent today, for
        customers and invoices the user may open."""
        today = fields.Date.context_today(self)
        for vals in vals_list:
            vals["date"] = today
        wizards = super().create(vals_list)
        for wizard in wizards:
            wizard._check_scope()
        return wizards

    def write(self, vals):
        # the preview fills the other fields; the scope and the day are set once
        if {"date", "partner_ids", "invoice_ids"} & set(vals):
            raise UserError(_("Open the reminder window again to remind other customers."))
        return super().write(vals)

    def _check_scope(self):
        """The customers and invoices chosen must be readable by the user; an empty
        choice means every customer for billing managers and accountants only."""
        self.ensure_one()
        # read as superuser: a billing user without Invoicing cannot even read the
        # (empty) invoice field; the check itself is made as the user
        wizard = self.sudo()
        for records in (wizard.partner_ids, wizard.invoice_ids):
            if records:
                records.with_env(self.env).check_access("read")
        if (
            not (wizard.partner_ids or wizard.invoice_ids)
            and not self.env["crm.billing.schedule"]._billing_may_post()
        ):
            raise UserError(
                _("Choose the customers or the invoices to remind: open this from them.")
            )

    @api.model
    def _action_open(self, partners=None, invoices=None):
        """Open the wizard with the preview of what would be sent now."""
        vals = {}
        if partners:
            vals["partner_ids"] = [Command.set(partners.ids)]
        if invoices:
            vals["invoice_ids"] = [Command.set(invoices.ids)]
        wizard = self.create(vals)
        wizard._fill_preview()
        return {
            "type": "ir.actions.act_window",
            "name": _("Send Payment Reminder"),
            "res_model": self._name,
            "res_id": wizard.id,
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
        }

    # --- What would be sent ---

    def _get_scope(self):
        """Keyword arguments of ``_send_reminders`` / ``_plan_reminders`` for the
        customers or invoices this wizard was opened on."""
        self.ensure_one()
        # invoices chosen by a user who could open them, read here whoever sends
        wizard = self.sudo()
        return {
            "partners": wizard.partner_ids if wizard.partner_ids else None,
            "invoices": wizard.invoice_ids if wizard.invoice_ids else None,
        }

    def _get_companies(self):
        self.ensure_one()
        invoices = self.sudo().invoice_ids
        if invoices:
            return invoices.company_id & self.env.companies
        return self.env.companies

    def _get_plans(self):
        """(reminder model in the company, plan) of every reminder that would be sent."""
        self.ensure_one()
        # a billing user may remind customers of invoices he cannot open himself: the
        # reminders are sent with the rights of the run, in his companies only
        Reminder = self.env["crm.billing.reminder"].sudo()
        plans = []
        for company in self._get_companies():
            company_reminder = Reminder.with_company(company)
            plans += [
                (company_reminder, plan)
                for plan in company_reminder._plan_reminders(self._get_today(), **self._get_scope())
            ]
        return plans

    def _fill_preview(self):
        self.ensure_one()
        plans = self._get_plans()
        vals = {"customer_count": len(plans), "summary": self._render_summary(plans)}
        if plans:
            Reminder, plan = plans[0]
            vals.update(self._render_plan_preview(Reminder, plan))
        self.write(vals)

    def _render_summary(self, plans):
        """Who would receive what: one row per customer (template
        ``crm_billing.reminder_send_summary``)."""
        rows = [
            {
                "customer": plan.partner.display_name,
                "level": plan.level.name,
                "invoice_count": len(plan.invoices),
                "amount_due": ", ".join(
                    format_amount(self.env, sum(invoices.mapped("amount_residual")), currency)
                    for currency, invoices in plan.invoices.grouped("currency_id").items()
                ),
            }
            for _reminder, plan in plans
        ]
        return self.env["ir.qweb"]._render("crm_billing.reminder_send_summary", {"rows": rows})

    def _get_today(self):
        """Today in the user's time zone: manual sending never takes its day from
        the record, which a client could have written."""
        return fields.Date.context_today(self)

    def _render_plan_preview(self, Reminder, plan):
        """The message one customer would receive, rendered on a reminder made for the
        occasion and rolled back: the preview sends and keeps nothing."""
        with contextlib.closing(self.env.cr.savepoint()):
            reminder = Reminder.create(
                Reminder._prepare_reminder_vals(plan, self._get_today(), manual=True)
            )
            return self._render_reminder_preview(reminder)

    def _render_reminder_preview(self, reminder):
        plan_level = reminder.level_id
        vals = {
            "preview_partner_id": reminder.partner_id.id,
            "preview_level_id": plan_level.id,
            "preview_channel": plan_level.channel,
        }
        if plan_level.channel == "email":
            rendered = reminder._render_email()
            vals.update(
                preview_recipients=", ".join(reminder._get_recipients().mapped("email_formatted"))
                or _("No email address: the reminder cannot be sent."),
                preview_subject=rendered["subject"],
                preview_body=rendered["body_html"],
            )
        else:
            vals.update(
                preview_subject=_("Payment reminder: %s", plan_level.name),
                preview_body=reminder._render_invoice_table(),
            )
        return vals

    # --- Sending ---

    def action_send(self):
        self.ensure_one()
        self._check_scope()
        reminders = self.env["crm.billing.reminder"]._send_reminders(
            today=self._get_today(),
            companies=self._get_companies(),
            manual=True,
            raise_errors=True,
            **self._get_scope(),
        )
        if not reminders:
            raise UserError(
                _(
                    "Nothing to send: no invoice has reached a reminder level it was not "
                    "reminded at, or the customer was already reminded today."
                )
            )
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": _("%s payment reminder(s) sent.", len(reminders)),
                "next": {"type": "ir.actions.act_window_close"},
            },
        }
