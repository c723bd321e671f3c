# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

#: default levels shipped in data/crm_billing_reminder_data.xml, copied to new companies
DEFAULT_LEVEL_XMLIDS = (
    "crm_billing.reminder_level_courtesy",
    "crm_billing.reminder_level_first",
    "crm_billing.reminder_level_second",
    "crm_billing.reminder_level_final",
)

#: how a reminder reaches the customer; the level chooses, the reminder and the
#: manual-sending preview record it
REMINDER_CHANNEL_SELECTION = [
    ("email", "Email"),
    ("letter", "Letter"),
    ("activity", "Activity for the Salesperson"),
]


class CrmBillingReminderLevel(models.Model):
    _name = "crm.billing.reminder.level"
    _description = "Payment Reminder Level"
    _order = "company_id, days, sequence, id"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    days = fields.Integer(
        string="Days After Due Date",
        required=True,
        help="The level applies to an invoice that many days after its due date; "
        "a negative number sends a courtesy reminder before the due date.",
    )
    channel = fields.Selection(
        REMINDER_CHANNEL_SELECTION,
        required=True,
        default="email",
        help="Email: the template is sent to the customer's invoice contacts. "
        "Letter: a PDF reminder is filed on the customer, to print and post. "
        "Activity: the salesperson is asked to follow up.",
    )
    mail_template_id = fields.Many2one(
        "mail.template",
        string="Email Template",
        domain="[('model', '=', 'crm.billing.reminder')]",
        help="The email sent at this level; it is rendered on the reminder, "
        "which lists the invoices covered.",
    )
    attach_invoices = fields.Boolean(help="Attach the PDF of every invoice the reminder covers.")
    attach_statement = fields.Boolean(
        help="Attach the customer's outstanding statement at the reminder's date."
    )
    activity_type_id = fields.Many2one(
        "mail.activity.type",
        default=lambda self: self.env.ref("mail.mail_activity_data_call", raise_if_not_found=False),
        help="The activity scheduled for the salesperson at this level.",
    )
    reminder_count = fields.Integer(compute="_compute_reminder_count")

    def _compute_reminder_count(self):
        counts = dict(
            self.env["crm.billing.reminder"]._read_group(
                [("level_id", "in", self.ids)], ["level_id"], ["__count"]
            )
        )
        for level in self:
            level.reminder_count = counts.get(level, 0)

    # --- Constraints ---

    @api.constrains("days", "company_id", "active")
    def _check_days_unique(self):
        levels = self.filtered("active")
        if not levels:
            return
        others = self.search(
            [
                ("company_id", "in", levels.company_id.ids),
                ("days", "in", levels.mapped("days")),
            ]
        )
        for level in levels:
            twin = others.filtered(
                lambda other, level=level: (
                    other != level
                    and other.company_id == level.company_id
                    and other.days == level.days
                )
            )
            if twin:
                raise ValidationError(
                    _(
                        "Reminder levels %(level)s and %(other)s both apply %(days)s days after "
                        "the due date in %(company)s: each level needs its own number of days.",
                        level=level.name,
                        other=twin[0].name,
                        days=level.days,
                        company=level.company_id.name,
                    )
                )

    @api.constrains("channel", "mail_template_id")
    def _check_mail_template(self):
        for level in self:
            if level.channel == "email" and not level.mail_template_id:
                raise ValidationError(
                    _("Reminder level %s sends an email: choose its email template.", level.name)
                )
            if level.mail_template_id and level.mail_template_id.model != "crm.billing.reminder":
                raise ValidationError(
                    _(
                        "The template of reminder level %(level)s must be made for payment "
                        "reminders, not for %(model)s.",
                        level=level.name,
                        model=level.mail_template_id.model,
                    )
                )

    # --- Defaults per company ---

    @api.model
    def _get_default_levels(self):
        """The levels shipped with the addon, as far as they still exist."""
        levels = self.browse()
        for xmlid in DEFAULT_LEVEL_XMLIDS:
            levels |= self.env.ref(xmlid, raise_if_not_found=False) or self.browse()
        return levels.with_context(active_test=False).exists()

    @api.model
    def _create_default_levels(self, companies=None):
        """Give every company that has no reminder level at all (archived ones count) a
        copy of the default levels, so that a new company reminds like the first one.

        Called at installation and by each reminder run; a company that wants no
        reminders archives its levels rather than deleting them."""
        Level = self.sudo().with_context(active_test=False)
        companies = (
            companies if companies is not None else self.env["res.company"].sudo().search([])
        )
        defaults = Level._get_default_levels()
        if not defaults:
            return Level
        equipped = {company for [company] in Level._read_group([], ["company_id"])}
        new_levels = Level
        for company in companies:
            if company in equipped:
                continue
            new_levels |= defaults.copy({"company_id": company.id})
        return new_levels

    def action_view_reminders(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "crm_billing.crm_billing_reminder_action"
        )
        action["domain"] = [("level_id", "=", self.id)]
        action["context"] = {}
        return action
