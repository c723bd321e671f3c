# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging

from dateutil.relativedelta import relativedelta
from psycopg2 import errors as pg_errors

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.fields import Domain
from odoo.tools import date_utils, format_date, split_every

from ..report.crm_billing_statement_report import STATEMENT_TYPES

_logger = logging.getLogger(__name__)

STATEMENT_REPORT_XMLID = "crm_billing.action_report_statement"
STATEMENT_TEMPLATE_XMLID = "crm_billing.mail_template_statement"


class CrmBillingStatement(models.Model):
    """A customer statement sent by email: by hand from the statement wizard, or by
    the monthly run. The monthly run's statements carry the month they cover, and
    the database keeps one per customer, company and month: a run repeated, by
    the scheduler or by two workers at once, sends nothing twice."""

    _name = "crm.billing.statement"
    _inherit = ["crm.billing.customer.mail"]
    _description = "Customer Statement Sent"
    _order = "date desc, id desc"
    _check_company_auto = True

    #: customers per committed batch of the monthly run
    _CRON_BATCH_SIZE = 50

    partner_id = fields.Many2one(
        "res.partner", string="Customer", required=True, readonly=True, index=True
    )
    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True)
    statement_type = fields.Selection(STATEMENT_TYPES, required=True, readonly=True)
    date_from = fields.Date(readonly=True)
    date_to = fields.Date(string="Statement Date", required=True, readonly=True)
    date = fields.Date(string="Sent On", required=True, readonly=True, index=True)
    month = fields.Date(
        readonly=True,
        help="First day of the month covered, for the statements of the monthly run.",
    )
    manual = fields.Boolean(
        string="Sent by Hand", readonly=True, help="Sent by a user rather than by the monthly run."
    )
    user_id = fields.Many2one(
        "res.users", string="Sent By", readonly=True, default=lambda self: self.env.user
    )
    amount_due = fields.Char(readonly=True, help="What the statement asked for, per currency.")
    recipient_ids = fields.Many2many(
        "res.partner",
        "crm_billing_statement_res_partner_rel",
        "statement_id",
        "partner_id",
        string="Recipients",
        readonly=True,
    )
    message_id = fields.Many2one("mail.message", readonly=True, ondelete="set null")

    _monthly_unique = models.UniqueIndex(
        "(partner_id, company_id, month) WHERE month IS NOT NULL",
        "A customer receives one monthly statement per month.",
    )

    @api.depends("partner_id", "statement_type", "date_to")
    def _compute_display_name(self):
        for statement in self:
            values = {
                "customer": statement.partner_id.name,
                "date": statement.date_to and fields.Date.to_string(statement.date_to),
            }
            if statement.statement_type == "activity":
                statement.display_name = _(
                    "Activity Statement of %(customer)s (%(date)s)", **values
                )
            else:
                statement.display_name = _(
                    "Outstanding Statement of %(customer)s (%(date)s)", **values
                )

    # --- Options and content ---

    def _get_report_options(self):
        self.ensure_one()
        return {
            "statement_type": self.statement_type,
            "date_from": fields.Date.to_string(self.date_from) if self.date_from else False,
            "date_to": fields.Date.to_string(self.date_to),
        }

    def _get_period_text(self):
        """'at 03/31/2027' or 'from 03/01/2027 to 03/31/2027', in the customer's language.

        Kept for statement templates adapted from earlier versions (the template is
        the company's to change and is not updated); the shipped template writes
        whole sentences with the dates."""
        self.ensure_one()
        env = self.with_context(lang=self.partner_id.lang).env
        if self.statement_type == "activity":
            return _(
                "from %(start)s to %(end)s",
                start=format_date(env, self.date_from),
                end=format_date(env, self.date_to),
            )
        return _("at %s", format_date(env, self.date_to))

    def _render_pdf(self):
        """(file name, PDF) of this statement."""
        self.ensure_one()
        Report = self.env["ir.actions.report"].sudo().with_company(self.company_id)
        content, _file_type = Report._render_qweb_pdf(
            STATEMENT_REPORT_XMLID, self.partner_id.ids, data=self._get_report_options()
        )
        name = _(
            "Statement %(customer)s %(date)s",
            customer=self.partner_id.name,
            date=fields.Date.to_string(self.date_to),
        )
        return f"{name}.pdf", content

    def _send(self):
        """Email this statement to the customer, its PDF attached, through the
        customer's chatter (the mail queue delivers it)."""
        self.ensure_one()
        recipients = self._get_invoice_address_recipients()
        if not recipients:
            raise UserError(
                _(
                    "Customer %s has no email address: add one to send its statement.",
                    self.partner_id.display_name,
                )
            )
        self._post_customer_email(
            self.env.ref(STATEMENT_TEMPLATE_XMLID), recipients, [self._render_pdf()]
        )

    # --- Sending ---

    @api.model
    def _prepare_statement_vals(self, statement, today, month=False, manual=False):
        """Values of the record of ``statement`` (a statement from the report's
        ``_get_statements``); extend to add fields."""
        Report = self.env["report.crm_billing.report_statement"]
        return {
            "partner_id": statement["partner"].id,
            "company_id": statement["company"].id,
            "statement_type": statement["statement_type"],
            "date_from": statement["date_from"],
            "date_to": statement["date_to"],
            "date": today,
            "month": month,
            "manual": manual,
            "amount_due": Report._amounts_due_text(statement),
        }

    @api.model
    def _send_statements(
        self, partners, options, today=None, month=False, manual=False, raise_errors=False
    ):
        """Email the statements of ``partners`` (their commercial partners) in the
        current company, one message per customer with the PDF attached, skipping
        customers whose statement is empty unless ``options['include_zero_balance']``.

        Each customer is worked in a savepoint: with ``month`` (the monthly run), a
        customer who already has that month's statement is skipped; otherwise a
        failure is logged on the customer and the others go on (unless
        ``raise_errors``). Commits nothing; returns the statement records sent.
        Read and recorded as superuser: callers check who may send."""
        today = today or fields.Date.context_today(self)
        Statement = self.sudo().with_company(self.env.company)
        Report = self.env["report.crm_billing.report_statement"].sudo()
        statements = Report._get_statements(partners, options, company=self.env.company)
        sent = self.browse()
        for partner, statement in statements.items():
            if not options.get("include_zero_balance") and Report._is_empty(statement):
                continue
            try:
                with self.env.cr.savepoint():
                    record = Statement.create(
                        Statement._prepare_statement_vals(
                            statement, today, month=month, manual=manual
                        )
                    )
                    record.flush_recordset()
                    record._send()
                    sent |= record
            except pg_errors.UniqueViolation:
                # this month's statement went out meanwhile (another worker, a re-run)
                continue
            except Exception as error:
                if raise_errors:
                    raise
                reason = error.args[0] if getattr(error, "args", None) else str(error)
                _logger.warning(
                    "Statement to %s (id %s) not sent: %s", partner.name, partner.id, reason
                )
                partner._message_log(body=_("Statement not sent: %s", reason))
        return sent.sudo(self.env.su)

    # --- The monthly run ---

    @api.model
    def _get_monthly_period(self, today):
        """(first day, last day) of the month before ``today``: what the monthly
        statement sent in ``today``'s month covers."""
        first = date_utils.start_of(today, "month") - relativedelta(months=1)
        return first, date_utils.end_of(first, "month")

    @api.model
    def _get_monthly_partners_domain(self):
        """Customers of the current company who asked for the monthly statement
        (their own choice, else the company's default)."""
        return Domain("billing_statement_monthly", "=", True) & Domain(
            "company_id", "in", [False, self.env.company.id]
        )

    @api.model
    def _get_partners_to_send_monthly(self, today):
        """The monthly run's work list in the current company: the commercial
        partners who opted in, have receivable items until the end of last month,
        and have no statement for last month yet."""
        month, last = self._get_monthly_period(today)
        company = self.env.company
        Partner = self.env["res.partner"].sudo().with_company(company)
        customers = Partner.concat(
            *(
                partner
                for [partner] in self.env["account.move.line"]
                .sudo()
                ._read_group(
                    [
                        ("company_id", "=", company.id),
                        ("account_type", "=", "asset_receivable"),
                        ("parent_state", "=", "posted"),
                        ("date", "<=", last),
                        ("partner_id", "!=", False),
                    ],
                    ["partner_id"],
                )
            )
        ).with_company(company)
        partners = Partner.search(
            self._get_monthly_partners_domain() & Domain("id", "in", customers.ids)
        ).commercial_partner_id
        done = self.sudo().search(
            [
                ("company_id", "=", self.env.company.id),
                ("month", "=", month),
                ("partner_id", "in", partners.ids),
            ]
        )
        return partners - done.partner_id

    @api.model
    def _send_monthly_statements(self, today=None, partners=None, companies=None):
        """Send last month's activity statement to every opted-in customer who has
        not received it yet (``partners`` narrows the customers), company by
        company. Commits nothing; returns the statements sent."""
        today = today or fields.Date.context_today(self)
        first, last = self._get_monthly_period(today)
        options = {"statement_type": "activity", "date_from": first, "date_to": last}
        sent = self.browse()
        for company in companies if companies is not None else self.env.companies:
            Statement = self.sudo().with_company(company)
            todo = Statement._get_partners_to_send_monthly(today)
            if partners is not None:
                todo &= partners.commercial_partner_id
            if todo:
                sent |= Statement._send_statements(todo, options, today=today, month=first)
        return sent

    @api.model
    def _cron_send_monthly_statements(self, batch_size=None):
        """The monthly statement run: company by company, in committed batches of
        customers. A run cut short is taken up by the next; customers who already
        received the month's statement are skipped, so a re-run sends nothing."""
        batch_size = batch_size or self._CRON_BATCH_SIZE
        Statement = self.sudo()
        today = fields.Date.context_today(Statement)
        Cron = self.env["ir.cron"]
        work = []
        for company in Statement.env["res.company"].search([]):
            partners = Statement.with_company(company)._get_partners_to_send_monthly(today)
            work += [(company, batch) for batch in split_every(batch_size, partners.ids, list)]
        remaining = sum(len(batch) for _company, batch in work)
        for company, batch in work:
            sent = Statement._send_monthly_statements(
                today=today,
                partners=Statement.env["res.partner"].browse(batch),
                companies=company,
            )
            remaining -= len(batch)
            _logger.info(
                "Monthly statements: %d sent for %d customers of %s",
                len(sent),
                len(batch),
                company.name,
            )
            if Cron._commit_progress(len(batch), remaining=remaining) <= 0:
                break
            Statement.env.invalidate_all()
        return True
