# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging
from collections import namedtuple
from datetime import timedelta

from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.fields import Domain
from odoo.tools import SQL, format_amount, split_every

from .billing_locks import lock_rows
from .crm_billing_reminder_level import REMINDER_CHANNEL_SELECTION
from .crm_billing_schedule import _is_transaction_failure

_logger = logging.getLogger(__name__)

#: what one customer is about to receive: the level of the reminder, the invoices it
#: asks for (oldest due first) and, for those that reached a new level, that level
ReminderPlan = namedtuple("ReminderPlan", ["partner", "level", "invoices", "invoice_levels"])


class CrmBillingReminder(models.Model):
    _name = "crm.billing.reminder"
    _inherit = ["crm.billing.customer.mail"]
    _description = "Payment Reminder"
    _order = "date desc, id desc"
    _check_company_auto = True

    #: customers reminded per committed batch by the cron
    _CRON_BATCH_SIZE = 100
    #: times the run tries a batch again after a serialization failure or deadlock
    _CRON_RETRIES = 3

    partner_id = fields.Many2one(
        "res.partner", string="Customer", required=True, readonly=True, index=True
    )
    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True)
    level_id = fields.Many2one(
        "crm.billing.reminder.level",
        required=True,
        readonly=True,
        ondelete="restrict",
        index=True,
        check_company=True,
    )
    channel = fields.Selection(
        REMINDER_CHANNEL_SELECTION,
        required=True,
        readonly=True,
    )
    date = fields.Date(required=True, readonly=True, index=True)
    manual = fields.Boolean(
        string="Sent by Hand", readonly=True, help="Sent by a user rather than by the daily run."
    )
    user_id = fields.Many2one(
        "res.users", string="Sent By", readonly=True, default=lambda self: self.env.user
    )
    invoice_ids = fields.Many2many(
        "account.move",
        "crm_billing_reminder_account_move_rel",
        "reminder_id",
        "move_id",
        string="Invoices",
        readonly=True,
    )
    invoice_count = fields.Integer(compute="_compute_invoice_count")
    company_currency_id = fields.Many2one(
        related="company_id.currency_id", string="Company Currency"
    )
    amount_due = fields.Monetary(
        readonly=True,
        currency_field="company_currency_id",
        help="What the covered invoices still asked for when the reminder was sent, "
        "in company currency.",
    )
    recipient_ids = fields.Many2many(
        "res.partner",
        "crm_billing_reminder_res_partner_rel",
        "reminder_id",
        "partner_id",
        string="Recipients",
        readonly=True,
    )
    message_id = fields.Many2one("mail.message", readonly=True, ondelete="set null")
    message_body = fields.Html(related="message_id.body", string="Message Sent")
    attachment_id = fields.Many2one(
        "ir.attachment", string="Letter", readonly=True, ondelete="set null"
    )

    @api.depends("invoice_ids")
    def _compute_invoice_count(self):
        for reminder in self:
            reminder.invoice_count = len(reminder.invoice_ids)

    @api.depends("level_id", "partner_id", "date")
    def _compute_display_name(self):
        for reminder in self:
            reminder.display_name = _(
                "%(level)s to %(customer)s (%(date)s)",
                level=reminder.level_id.name,
                customer=reminder.partner_id.name,
                date=reminder.date and fields.Date.to_string(reminder.date),
            )

    # --- Content (used by the email templates, the letter and the activity) ---

    def _get_reminder_lines(self):
        """The covered invoices, oldest due date first, with what the customer needs to
        read about each: number, due date, days late, what is left to pay, where to pay."""
        self.ensure_one()
        lang = self.partner_id.lang
        lines = []
        for invoice in self.invoice_ids.sorted(lambda m: (m.invoice_date_due, m.name or "", m.id)):
            lines.append(
                {
                    "invoice": invoice,
                    "name": invoice.name,
                    "ref": invoice.ref or "",
                    "invoice_date": invoice.invoice_date,
                    "date_due": invoice.invoice_date_due,
                    "days_late": (self.date - invoice.invoice_date_due).days,
                    "amount_total": invoice.amount_total,
                    "amount_residual": invoice.amount_residual,
                    "currency": invoice.currency_id,
                    # amounts as the customer reads them, whichever engine renders the
                    # table (an email, the letter, an activity)
                    "amount_total_text": format_amount(
                        self.env, invoice.amount_total, invoice.currency_id, lang
                    ),
                    "amount_residual_text": format_amount(
                        self.env, invoice.amount_residual, invoice.currency_id, lang
                    ),
                    "url": invoice.get_base_url() + invoice.get_portal_url(),
                }
            )
        return lines

    def _get_amounts_due(self):
        """What the covered invoices still ask for, one (currency, amount) per currency."""
        self.ensure_one()
        totals = {}
        for invoice in self.invoice_ids:
            totals[invoice.currency_id] = (
                totals.get(invoice.currency_id, 0.0) + invoice.amount_residual
            )
        return [
            (currency, currency.round(amount))
            for currency, amount in sorted(totals.items(), key=lambda item: item[0].name)
        ]

    def _get_amounts_due_texts(self):
        """``_get_amounts_due`` as the customer reads it, one text per currency."""
        self.ensure_one()
        return [
            format_amount(self.env, amount, currency, self.partner_id.lang)
            for currency, amount in self._get_amounts_due()
        ]

    def _get_amounts_due_text(self):
        self.ensure_one()
        return ", ".join(self._get_amounts_due_texts())

    def _get_portal_invoices_url(self):
        self.ensure_one()
        return self.get_base_url() + "/my/invoices"

    def _render_invoice_table(self):
        self.ensure_one()
        return self.env["ir.qweb"]._render(
            "crm_billing.reminder_invoice_table", {"reminder": self}, lang=self.partner_id.lang
        )

    # --- Sending ---

    def _get_recipients(self):
        """The contacts the covered invoices were made out to, when they have an email
        address; otherwise the customer's invoice address."""
        self.ensure_one()
        return self._get_recipients_of(self.partner_id, self.invoice_ids)

    @api.model
    def _get_recipients_of(self, partner, invoices):
        """``_get_recipients`` of a reminder of ``invoices`` to ``partner``."""
        return invoices.partner_id.filtered("email") or self._get_invoice_address_recipients_of(
            partner
        )

    def _get_invoice_attachments(self):
        """(file name, PDF) of every covered invoice: its legal PDF when it was sent,
        otherwise the invoice report rendered now."""
        self.ensure_one()
        attachments = []
        Report = self.env["ir.actions.report"]
        for invoice in self.invoice_ids:
            pdf = invoice.invoice_pdf_report_id
            if pdf:
                attachments.append((pdf.name, pdf.raw))
            else:
                content, _file_type = Report._render_qweb_pdf(
                    "account.account_invoices", invoice.ids
                )
                attachments.append((invoice._get_invoice_report_filename(), content))
        return attachments

    def _get_statement_attachment(self):
        """(file name, PDF) of the customer's outstanding statement at the reminder's date."""
        self.ensure_one()
        Statement = self.env["crm.billing.statement"].sudo().with_company(self.company_id)
        statement = Statement.new(
            {
                "partner_id": self.partner_id.id,
                "company_id": self.company_id.id,
                "statement_type": "outstanding",
                "date_to": self.date,
            }
        )
        return statement._render_pdf()

    def _get_mail_template(self):
        self.ensure_one()
        template = self.level_id.mail_template_id
        if not template:
            raise UserError(
                _("Reminder level %s has no email template to send.", self.level_id.name)
            )
        return template

    def _render_email(self):
        """Subject, body and sender of this reminder's email, in the customer's language."""
        return self._render_customer_email(self._get_mail_template())

    def _send(self):
        """Deliver this reminder through its level's channel."""
        self.ensure_one()
        getattr(self, f"_send_{self.channel}")()

    def _send_all(self):
        """Deliver these reminders through their levels' channels: the emails'
        templates are rendered for all of them at once, one call per template, and
        the run's emails queued together (``_queue_customer_emails``), each one the
        customer's chatter entry; those sent by hand are posted one by one, as are
        letters and activities."""
        emails = self.filtered(lambda r: r.channel == "email")
        for template, reminders in emails.grouped(lambda r: r._get_mail_template()).items():
            rendered = reminders._render_customer_emails(template)
            reminders._find_customer_email_authors(rendered)
            scheduled = reminders.filtered(lambda r: not r.manual)
            if scheduled:
                scheduled._queue_customer_emails(
                    template,
                    rendered,
                    {reminder.id: reminder._get_email_recipients() for reminder in scheduled},
                    {reminder.id: reminder._get_email_attachments() for reminder in scheduled},
                )
            for reminder in reminders - scheduled:
                reminder._send_email(values=rendered[reminder.id])
        for reminder in self - emails:
            reminder._send()

    def _get_email_recipients(self):
        """``_get_recipients``, refused with a clear message when there is none."""
        self.ensure_one()
        recipients = self._get_recipients()
        if not recipients:
            raise UserError(
                _(
                    "Customer %s has no email address: add one to its invoice contact "
                    "to send payment reminders.",
                    self.partner_id.display_name,
                )
            )
        return recipients

    def _send_email(self, values=None):
        """Email this reminder; ``values`` is its template already rendered (see
        ``_send_all``), rendered here when not given."""
        self.ensure_one()
        self._post_customer_email(
            self._get_mail_template(),
            self._get_email_recipients(),
            self._get_email_attachments(),
            values=values,
        )

    def _get_email_attachments(self):
        """(file name, PDF) of what the level attaches to its email: the invoices,
        the customer's statement."""
        self.ensure_one()
        attachments = self._get_invoice_attachments() if self.level_id.attach_invoices else []
        if self.level_id.attach_statement:
            attachments.append(self._get_statement_attachment())
        return attachments

    def _send_letter(self):
        self.ensure_one()
        report = self.env.ref("crm_billing.action_report_payment_reminder")
        content, file_type = self.env["ir.actions.report"]._render_qweb_pdf(report, self.ids)
        name = _(
            "Payment reminder %(customer)s %(date)s", customer=self.partner_id.name, date=self.date
        )
        attachment = self.env["ir.attachment"].create(
            {
                "name": f"{name}.{file_type}",
                "raw": content,
                "res_model": self._name,
                "res_id": self.id,
                "mimetype": "application/pdf" if file_type == "pdf" else "text/html",
            }
        )
        message = self.partner_id._message_log(
            body=_(
                "Payment reminder letter (%(level)s) ready to print and post, for %(amount)s.",
                level=self.level_id.name,
                amount=self._get_amounts_due_text(),
            ),
            attachment_ids=attachment.ids,
        )
        self.write({"message_id": message.id, "attachment_id": attachment.id})

    def _send_activity(self):
        self.ensure_one()
        level = self.level_id
        user = (
            self.invoice_ids.invoice_user_id.filtered(lambda u: not u.share)[:1]
            or self.partner_id.user_id
            or self.env.user
        )
        note = Markup("<p>%s</p>%s") % (
            _("Ask the customer to pay %s:", self._get_amounts_due_text()),
            self._render_invoice_table(),
        )
        self.partner_id.activity_schedule(
            activity_type_id=(
                level.activity_type_id or self.env.ref("mail.mail_activity_data_todo")
            ).id,
            summary=_("Payment reminder: %s", level.name),
            note=note,
            user_id=user.id,
            date_deadline=self.date,
        )

    # --- The run ---

    @api.model
    def _get_open_invoices_domain(self):
        """Posted customer invoices of the current company that still ask for money and
        may be reminded of."""
        return [
            ("company_id", "=", self.env.company.id),
            ("move_type", "=", "out_invoice"),
            ("state", "=", "posted"),
            ("payment_state", "in", ("not_paid", "partial")),
            ("amount_residual", ">", 0),
            ("reminder_excluded", "=", False),
        ]

    @api.model
    def _get_reminder_invoices_domain(self, levels, today):
        """Open invoices of the current company that have reached one of ``levels``
        they were not reminded at yet."""
        reached = Domain.OR(
            Domain.AND(
                [
                    [("invoice_date_due", "<=", today - timedelta(days=level.days))],
                    # a courtesy level only makes sense before the due date
                    [("invoice_date_due", ">=", today)] if level.days < 0 else [],
                    [
                        "|",
                        ("reminder_level_id", "=", False),
                        ("reminder_level_id.days", "<", level.days),
                    ],
                ]
            )
            for level in levels
        )
        return Domain.AND(
            [self._get_open_invoices_domain(), reached, self._get_not_collecting_domain()]
        )

    @api.model
    def _get_not_collecting_domain(self):
        """Invoices that payment collection is not working on: no charge waiting for
        its provider, no retry planned. An invoice is left to the reminders once its
        last charge attempt failed."""
        collecting = (
            self.env["account.move"]
            .sudo()
            ._search(
                [
                    "|",
                    ("billing_next_charge_date", "!=", False),
                    ("billing_charge_ids.state", "=", "pending"),
                ]
            )
        )
        return Domain("id", "not in", collecting)

    @api.model
    def _get_levels(self):
        return self.env["crm.billing.reminder.level"].search(
            [("company_id", "=", self.env.company.id)], order="days, sequence, id"
        )

    @api.model
    def _is_excluded(self, invoice):
        return (
            invoice.reminder_excluded
            or invoice.commercial_partner_id.billing_reminder_excluded
            or invoice.partner_id.billing_reminder_excluded
        )

    @api.model
    def _get_level_reached(self, levels, invoice, today):
        """The highest of ``levels`` (sorted by days) that ``invoice`` has reached today;
        courtesy levels (negative days) apply only until the due date."""
        late = (today - invoice.invoice_date_due).days
        return levels.filtered(lambda lvl: lvl.days <= late and (lvl.days >= 0 or late <= 0))[-1:]

    @api.model
    def _search_invoices(self, domain, partners=None, invoices=None):
        Move = self.env["account.move"].with_context(active_test=False)
        domain = Domain(domain)
        if partners is not None:
            domain &= Domain("commercial_partner_id", "in", partners.commercial_partner_id.ids)
        if invoices is not None:
            domain &= Domain("id", "in", invoices.ids)
        moves = Move.search(domain, order="invoice_date_due, id").with_context(active_test=True)
        return moves.filtered(lambda m: not self._is_excluded(m))

    @api.model
    def _plan_reminders(self, today, partners=None, invoices=None):
        """What the current company would send today: one plan per customer (commercial
        partner) with an invoice that reached a level it was not reminded at.

        The reminder goes out at the highest of the levels reached; it moves each of
        those invoices to the level it reached, and asks for them together with the
        customer's other overdue invoices (still open, not excluded). Customers already
        reminded today get nothing."""
        levels = self._get_levels()
        if not levels:
            return []
        moves = self._search_invoices(
            self._get_reminder_invoices_domain(levels, today), partners=partners, invoices=invoices
        )
        if not moves:
            return []
        reminded_today = {
            partner
            for [partner] in self._read_group(
                [
                    ("company_id", "=", self.env.company.id),
                    ("date", "=", today),
                    ("partner_id", "in", moves.commercial_partner_id.ids),
                ],
                ["partner_id"],
            )
        }
        escalations = {}
        for partner, partner_moves in moves.grouped("commercial_partner_id").items():
            if partner in reminded_today:
                continue
            invoice_levels = {}
            for move in partner_moves:
                level = self._get_level_reached(levels, move, today)
                current = move.reminder_level_id
                if level and (not current or level.days > current.days):
                    invoice_levels[move] = level
            if invoice_levels:
                escalations[partner] = invoice_levels
        if not escalations:
            return []
        Partner = self.env["res.partner"]
        overdue = self._search_invoices(
            Domain.AND([self._get_open_invoices_domain(), [("invoice_date_due", "<", today)]]),
            partners=Partner.concat(*escalations),
            invoices=invoices,
        ).grouped("commercial_partner_id")
        Move = self.env["account.move"]
        plans = []
        for partner, invoice_levels in escalations.items():
            escalated = Move.concat(*invoice_levels)
            listed = (escalated | overdue.get(partner, Move)).sorted(
                lambda m: (m.invoice_date_due, m.id)
            )
            top = max(invoice_levels.values(), key=lambda lvl: (lvl.days, lvl.sequence))
            plans.append(ReminderPlan(partner, top, listed, invoice_levels))
        return plans

    def _prepare_reminder_vals(self, plan, today, manual=False):
        """Values of the reminder recording ``plan``; extend to add fields."""
        return {
            "partner_id": plan.partner.id,
            "company_id": self.env.company.id,
            "level_id": plan.level.id,
            "channel": plan.level.channel,
            "date": today,
            "manual": manual,
            "invoice_ids": [fields.Command.set(plan.invoices.ids)],
            "amount_due": sum(plan.invoices.mapped("amount_residual_signed")),
        }

    def _lock_invoices(self, invoices):
        """Lock the invoices about to be reminded, so that a user sending a reminder
        while the run works on the same customer waits, then finds it done. What
        ``_refresh_plan`` reads again is read here for all of them in one query: each
        plan's invoices are a recordset of their own, read plan by plan otherwise."""
        fnames = ["reminder_level_id", "reminder_last_date", "payment_state"]
        lock_rows(invoices, fnames)
        invoices.fetch(fnames)

    def _plan_can_be_sent(self, plan):
        """False for a plan known to fail: an email reminder to a customer whose
        invoices and invoice address have no email address."""
        return plan.level.channel != "email" or bool(
            self._get_recipients_of(plan.partner, plan.invoices)
        )

    def _refresh_plan(self, plan):
        """The plan without what changed since it was made (an invoice paid meanwhile,
        a level sent by another transaction); None when nothing is left to send."""
        paid = plan.invoices.filtered(lambda m: m.payment_state not in ("not_paid", "partial"))
        invoice_levels = {
            move: level
            for move, level in plan.invoice_levels.items()
            if move not in paid
            and not (move.reminder_level_id and move.reminder_level_id.days >= level.days)
        }
        if not invoice_levels:
            return None
        if paid or len(invoice_levels) < len(plan.invoice_levels):
            plan = ReminderPlan(
                plan.partner,
                max(invoice_levels.values(), key=lambda lvl: (lvl.days, lvl.sequence)),
                plan.invoices - paid,
                invoice_levels,
            )
        return plan

    def _send_plan(self, plan, today, manual=False):
        """Record and deliver one customer's reminder, move each invoice that reached a
        new level up to it and date the last reminder of every invoice asked for."""
        return self._send_plans([plan], today, manual=manual)

    def _send_plans(self, plans, today, manual=False):
        """``_send_plan`` for several customers at once (each plan is one customer's):
        their invoices locked and re-read together, their reminders created in one
        batch and their emails rendered together, each invoice's level written once
        per level. Each customer still gets its own message on its chatter; each
        invoice lists the reminders that asked for it (``billing_reminder_ids``)."""
        Move = self.env["account.move"]
        self._lock_invoices(Move.concat(*(plan.invoices for plan in plans)))
        plans = [plan for plan in map(self._refresh_plan, plans) if plan]
        if not plans:
            return self.browse()
        reminders = self.create(
            [self._prepare_reminder_vals(plan, today, manual=manual) for plan in plans]
        )
        self._ensure_access_tokens(reminders.invoice_ids)
        reminders._send_all()
        invoice_levels = {}
        for plan in plans:
            invoice_levels.update(plan.invoice_levels)
        listed = Move.concat(*(plan.invoices for plan in plans))
        self._write_invoice_reminders(listed | Move.concat(*invoice_levels), invoice_levels, today)
        return reminders

    @api.model
    def _write_invoice_reminders(self, invoices, invoice_levels, today):
        """Date the last reminder of ``invoices`` and move each invoice of
        ``invoice_levels`` (invoice: level) up to its level, in one query.

        Both fields are crm_billing's own bookkeeping, tracked by nobody and computed
        from by nothing stored: no accounting change. ``account.move.write`` would
        check each posted invoice's hashed and read-only fields, run its balance and
        line-sync guards and prepare its tracking: 5 % of a reminder run. The
        invoices are locked already."""
        fnames = ["reminder_level_id", "reminder_last_date", "write_uid", "write_date"]
        invoices.flush_recordset(fnames)
        rows = [
            SQL(
                "(%s, %s)",
                invoice.id,
                invoice_levels[invoice].id if invoice in invoice_levels else None,
            )
            for invoice in invoices
        ]
        self.env.cr.execute(
            SQL(
                """UPDATE account_move m
                      SET reminder_level_id = COALESCE(v.level_id::int4, m.reminder_level_id),
                          reminder_last_date = %(today)s,
                          write_uid = %(uid)s,
                          write_date = %(now)s
                     FROM (VALUES %(rows)s) AS v(id, level_id)
                    WHERE m.id = v.id""",
                today=today,
                uid=self.env.uid,
                now=self.env.cr.now(),
                rows=SQL(", ").join(rows),
            )
        )
        invoices.invalidate_recordset(fnames)

    def _ensure_access_tokens(self, invoices):
        """Give each of ``invoices`` that has none its portal access token, all in one
        query, as ``_portal_ensure_token`` does one by one when an email's "View and
        pay" link is rendered: through ``account.move.write``, which re-synchronises
        the invoice's lines at every call (a tenth of a second an invoice), for a
        field that is no accounting change."""
        missing = invoices.filtered(lambda m: not m.access_token)
        if not missing:
            return
        missing.flush_recordset(["access_token"])
        self.env.cr.execute(
            SQL(
                "UPDATE account_move SET access_token = gen_random_uuid()::text"
                " WHERE id IN %s AND access_token IS NULL",
                tuple(missing.ids),
            )
        )
        missing.invalidate_recordset(["access_token"])

    def _log_reminder_failure(self, partner, error):
        reason = error.args[0] if getattr(error, "args", None) else str(error)
        _logger.warning(
            "Payment reminder to %s (id %s) not sent: %s", partner.name, partner.id, reason
        )
        partner._message_log(body=_("Payment reminder not sent: %s", reason))

    @api.model
    def _send_reminders(
        self,
        partners=None,
        today=None,
        companies=None,
        invoices=None,
        manual=False,
        raise_errors=False,
    ):
        """Send what is due today: at most one reminder per customer and company.

        ``partners`` / ``invoices`` narrow the customers and invoices considered
        (all of them when ``None``); ``companies`` defaults to the environment's. Each
        customer is worked in a savepoint: when it fails, nothing of its reminder is
        kept, the reason is logged on the customer and the others go on (unless
        ``raise_errors``). Commits nothing; returns the reminders sent.

        The bookkeeping (reminders, invoice levels, messages) is done as superuser:
        whoever may send a reminder need not be allowed to write invoices. The
        messages are still signed by the user who sends them."""
        today = today or fields.Date.context_today(self)
        if companies is None:
            companies = invoices.company_id if invoices is not None else self.env.companies
        reminders = self.browse()
        for company in companies:
            Reminder = self.sudo().with_company(company)
            plans = Reminder._plan_reminders(today, partners=partners, invoices=invoices)
            # the customers that cannot be emailed fail alone, in the loop below
            batch = [plan for plan in plans if Reminder._plan_can_be_sent(plan)]
            if len(batch) > 1:
                try:
                    with self.env.cr.savepoint():
                        reminders |= Reminder._send_plans(batch, today, manual=manual)
                    sent = {id(plan) for plan in batch}
                    plans = [plan for plan in plans if id(plan) not in sent]
                except Exception as error:
                    if _is_transaction_failure(error):
                        raise
                    # nothing of the batch is kept: each customer is sent on its own,
                    # so that the one that fails does not hold back the others
                    _logger.info("Payment reminders: batch sent customer by customer: %s", error)
            for plan in plans:
                try:
                    with self.env.cr.savepoint():
                        reminders |= Reminder._send_plan(plan, today, manual=manual)
                except Exception as error:
                    # a serialization failure dooms the whole transaction: the run
                    # retries it, it is no reason to skip this customer
                    if raise_errors or _is_transaction_failure(error):
                        raise
                    Reminder._log_reminder_failure(plan.partner, error)
        return reminders.sudo(self.env.su)

    @api.model
    def _get_partners_to_remind(self, today):
        """Customers of the current company with an invoice that may have reached a new
        level: the work list of the run (exclusions are applied when sending)."""
        levels = self._get_levels()
        if not levels:
            return self.env["res.partner"]
        groups = (
            self.env["account.move"]
            .with_context(active_test=False)
            ._read_group(
                self._get_reminder_invoices_domain(levels, today), ["commercial_partner_id"]
            )
        )
        return self.env["res.partner"].concat(*(partner for [partner] in groups))

    @api.model
    def _cron_send_reminders(self, batch_size=None):
        """Send every payment reminder due today, company by company, in committed
        batches of customers. A batch cut short by the cron's time limit is taken up by
        the next run; customers already reminded are not reminded again."""
        batch_size = batch_size or self._CRON_BATCH_SIZE
        Reminder = self.sudo()
        today = fields.Date.context_today(Reminder)
        Cron = self.env["ir.cron"]
        Reminder.env["crm.billing.reminder.level"]._create_default_levels()
        work = []
        for company in Reminder.env["res.company"].search([]):
            partners = Reminder.with_company(company)._get_partners_to_remind(today)
            work += [(company, batch) for batch in split_every(batch_size, partners.ids, list)]
        remaining = sum(len(batch) for _company, batch in work)
        # commit the default levels: a batch retried after a rollback needs them
        Cron._commit_progress(0, remaining=remaining)
        for company, batch in work:
            reminders = Reminder._send_reminders_retrying(batch, today, company)
            remaining -= len(batch)
            _logger.info(
                "Payment reminders: %d sent for %d customers of %s",
                len(reminders),
                len(batch),
                company.name,
            )
            if Cron._commit_progress(len(batch), remaining=remaining) <= 0:
                break
            Reminder.env.invalidate_all()
        return True

    @api.model
    def _send_reminders_retrying(self, partner_ids, today, company):
        """One batch of the run. A serialization failure or a deadlock (another
        worker, a user paying an invoice) rolls the batch back, and it is tried
        again on a fresh snapshot, as the invoicing run does; earlier batches are
        already committed."""
        for attempt in range(1, self._CRON_RETRIES + 1):
            try:
                with self.env.cr.savepoint():
                    return self._send_reminders(
                        partners=self.env["res.partner"].browse(partner_ids),
                        today=today,
                        companies=company,
                    )
            except Exception as error:
                if not _is_transaction_failure(error) or attempt == self._CRON_RETRIES:
                    raise
                _logger.info("Payment reminders: batch retried after %s", error)
                # a fresh snapshot: what the other transaction committed is now seen
                self.env.cr.rollback()
                self.env.invalidate_all()
        return self.browse()

    # --- Actions ---

    def action_view_invoices(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account.action_move_out_invoice_type"
        )
        action["domain"] = [("id", "in", self.invoice_ids.ids)]
        action["context"] = {"create": False}
        return action

    def action_open_letter(self):
        self.ensure_one()
        return self.env.ref("crm_billing.action_report_payment_reminder").report_action(self)
