# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The invoicing engine of billing schedules: which periods are due, the values of
their invoices, and the run that invoices them in locked, committed batches.

The period dates themselves are plain arithmetic, in ``billing_period_math``."""

import logging

import psycopg2
from psycopg2 import errors as pg_errors

from odoo import Command, _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from . import billing_period_math as period_math
from .billing_locks import lock_rows

_logger = logging.getLogger(__name__)


#: what a schedule's own data can make its invoicing fail with: the schedule is
#: rolled back and the reason logged on its chatter. Anything else (a bug, a
#: serialization failure or a lost connection that dooms the whole transaction)
#: reaches the caller.
_BLAMEABLE_ERRORS = (UserError, psycopg2.IntegrityError)


class CrmBillingSchedule(models.Model):
    _inherit = "crm.billing.schedule"

    #: schedules claimed and invoiced per committed batch by the cron
    _CRON_BATCH_SIZE = 100
    #: periods of one schedule invoiced per run at most, unless the system parameter
    #: ``crm_billing.max_periods_per_run`` says otherwise: a schedule backdated by
    #: years catches up over several runs instead of holding one batch for hours
    _MAX_PERIODS_PER_RUN = 100
    #: times the run tries a batch again after a serialization failure or deadlock
    _CRON_RETRIES = 3

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

    def _invoiced_periods_summary(self):
        """``{schedule id: (invoiced periods, latest invoiced period start)}`` of these
        schedules, in one query whatever their age."""
        ids = [id_ for id_ in self.ids if isinstance(id_, int)]
        if not ids:
            return {}
        groups = (
            self.env["crm.billing.period"]
            .sudo()
            ._read_group(
                [("schedule_id", "in", ids)], ["schedule_id"], ["__count", "date_start:max"]
            )
        )
        return {schedule.id: (count, last) for schedule, count, last in groups}

    def _first_open_index(self, summary=None):
        """Index of the first period of this recurring schedule not invoiced yet,
        computed from its latest invoiced period, so that it costs the same for a
        schedule started today or ten years ago. The run invoices periods oldest
        first: the invoiced ones are periods 0 to k, and k + 1 is next. None when
        they are not (then the caller walks the periods and compares them one by
        one)."""
        self.ensure_one()
        if not isinstance(self.id, int):
            return None  # a record being edited: its periods are in memory
        if summary is None:
            summary = self._invoiced_periods_summary()
        count, last = summary.get(self.id, (0, None))
        if not count:
            return 0
        k = period_math.index_of_start(last, **self._period_kwargs())
        if k is None or count != k + 1:
            return None
        return k + 1

    def _next_period(self, summary=None):
        """First period not yet invoiced, or None when the schedule is over.
        ``summary`` (of ``_invoiced_periods_summary``) spares a query per schedule."""
        self.ensure_one()
        if self.schedule_type == "instalment":
            invoiced = set(self.period_ids.mapped("date_start"))
            return next(
                (p for p in self._instalment_periods() if p.date_start not in invoiced), None
            )
        if not (self.date_start and self.rule_type):
            return None
        start = self._first_open_index(summary)
        if start is not None:
            return next(period_math.iter_periods(**self._period_kwargs(), start=start), None)
        invoiced = set(self.period_ids.mapped("date_start"))
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

    def _due_periods(self, today, limit=None, summary=None):
        """The periods of this schedule that should be invoiced by ``today`` and are
        not, oldest first, at most ``limit`` of them (the run's bound by default).
        ``summary`` (of ``_invoiced_periods_summary``) spares a query per schedule."""
        self.ensure_one()
        limit = limit or self._max_periods_per_run()
        if self.schedule_type == "instalment":
            invoiced = set(self.period_ids.mapped("date_start"))
            return [
                p
                for p in self._instalment_periods()
                if p.date_start not in invoiced and self._period_invoice_date(p) <= today
            ][:limit]
        start = self._first_open_index(summary)
        invoiced = set() if start is not None else set(self.period_ids.mapped("date_start"))
        due = []
        # a postpaid period is due on its last day: look one period ahead of today
        for period in period_math.iter_periods(**self._period_kwargs(), start=start or 0):
            if period.date_start > today or len(due) >= limit:
                break
            if period.date_start not in invoiced and self._period_invoice_date(period) <= today:
                due.append(period)
        return due

    # --- Invoicing ---

    def _get_journal(self):
        self.ensure_one()
        if self.journal_id:
            return self.journal_id
        # the run looks the default journal of each company and currency up once per batch
        defaults = self.env.context.get("crm_billing_default_journals") or {}
        key = (self.company_id.id, self.currency_id.id)
        if key in defaults:
            return self.env["account.journal"].browse(defaults[key])
        return self._default_journal(self.company_id, self.currency_id)

    @api.model
    def _default_journal(self, company, currency):
        """The sales journal Odoo itself picks for an invoice of ``company`` in
        ``currency`` (one in that currency first, when it is not the company's), or
        an empty recordset when the company has none."""
        invoice = (
            self.env["account.move"]
            .with_company(company)
            .new({"move_type": "out_invoice", "company_id": company.id, "currency_id": currency.id})
        )
        try:
            return invoice._search_default_journal()
        except UserError:
            return self.env["account.journal"]

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
            lock_rows(self)
            # what another transaction committed while we waited is read afresh
            self.env["crm.billing.period"].invalidate_model()

    def _generate_invoices(self, today=None, raise_errors=False):
        """Invoice the due periods of these schedules: the one entry point of every
        invoicing (the run, "Invoice Now", a deposit due today, a closing).

        The schedules are locked first (waiting for any other transaction that holds
        them; the run already holds the ones it claimed). The whole batch is then
        invoiced at once, in one savepoint (one batched ``create`` of the invoices,
        one of the periods, one posting). Should a schedule's data refuse it (a
        ``UserError``, a ``ValidationError``, the database refusing a period twice),
        it is rolled back and the schedules are worked one by one, each in its own
        savepoint: a failing one is rolled back, the reason logged on its chatter,
        and the others go on (unless ``raise_errors``). Any other error is a bug, not
        the schedule's fault: it propagates. Returns the invoices created.
        """
        today = today or fields.Date.context_today(self)
        self._lock_for_invoicing()
        invoices = self.env["account.move"]
        if len(self) > 1:
            try:
                with self.env.cr.savepoint():
                    invoices = self._invoice_due_periods(today)
            except _BLAMEABLE_ERRORS as error:
                _logger.info("Billing batch failed (%s); retrying schedule by schedule", error)
                invoices = self.env["account.move"]
            else:
                invoices._crm_billing_after_create()
                return invoices
        for schedule in self:
            try:
                with self.env.cr.savepoint():
                    invoices |= schedule._invoice_due_periods(today)
            except _BLAMEABLE_ERRORS as error:
                if raise_errors:
                    raise
                schedule._log_invoicing_failure(error)
        invoices._crm_billing_after_create()
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
        for company, schedules in running.grouped("company_id").items():
            schedules = schedules.with_company(company)
            # (``all(schedules.mapped("journal_id"))`` would be true of an empty
            # recordset: each schedule without a journal looked its default up twice)
            without_journal = schedules.filtered(lambda s: not s.journal_id)
            if without_journal:
                defaults = {
                    (company.id, currency.id): self._default_journal(company, currency).id
                    for currency in without_journal.currency_id
                }
                schedules = schedules.with_context(crm_billing_default_journals=defaults)
            summary = schedules._invoiced_periods_summary()
            work = [
                (schedule, period)
                for schedule in schedules
                for period in schedule._due_periods(today, summary=summary)
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
            # their creation messages logged in one batch, not one message_post each
            CompanyMove = Move.with_company(company)
            new_invoices = (
                CompanyMove.with_context(mail_create_nolog=True)
                .create(vals_list)
                .with_env(CompanyMove.env)
            )
            new_invoices._crm_billing_log_creation()
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
        """A schedule whose every period is invoiced is done (it has no next invoice
        date: see ``_compute_next_invoice_date``)."""
        self.filtered(lambda s: s.state == "running" and not s.next_invoice_date).state = "done"

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
        them; schedules locked by another worker are skipped, not waited for.

        A batch takes its customers whole (the schedules in customer order): two
        workers then post for different customers and do not wait on, or fail
        over, the same customer rows (posting a customer's first invoice raises
        its rank)."""
        domain = self._get_due_schedules_domain(today)
        if exclude_ids:
            domain = [*domain, ("id", "not in", list(exclude_ids))]
        query = self.sudo()._search(domain, order="commercial_partner_id.id, id", limit=limit)
        # execute_query flushes what the query reads first: schedules started
        # earlier in this transaction (a script, a server action) are seen
        rows = self.env.execute_query(
            SQL("%s FOR NO KEY UPDATE OF crm_billing_schedule SKIP LOCKED", query.select())
        )
        return self.browse(row[0] for row in rows)

    def _take_periods(self, today, budget):
        """The first of these schedules whose due periods add up to ``budget`` at
        most (the first one always, however many it has)."""
        summary = self._invoiced_periods_summary()
        taken, total = [], 0
        for schedule in self:
            due = len(schedule._due_periods(today, summary=summary))
            if taken and total + due > budget:
                break
            taken.append(schedule.id)
            total += due
        return self.browse(taken)

    @api.model
    def _cron_generate_invoices(self, batch_size=None):
        """Invoice every due period of every running schedule, in committed batches.

        Several workers may run this at once: each claims its own schedules with
        ``FOR NO KEY UPDATE SKIP LOCKED`` and commits them batch by batch."""
        batch_size = batch_size or self._CRON_BATCH_SIZE
        today = fields.Date.context_today(self)
        Cron = self.env["ir.cron"]
        failed = set()
        retries = 0
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
            # a batch is bounded by its periods, not only its schedules: schedules far
            # behind make batches (and memory) of the same size as the others, and
            # the ones left out are released at the commit and claimed next time
            schedules = schedules._take_periods(today, batch_size)
            try:
                invoices = schedules._generate_invoices(today)
            except (pg_errors.SerializationFailure, pg_errors.DeadlockDetected) as error:
                # another worker or a user changed a row the batch writes (the first
                # invoices of a customer both raising its rank, say): nothing of the
                # batch is kept; on a fresh snapshot it is claimed and invoiced again
                retries += 1
                if retries > self._CRON_RETRIES:
                    raise
                _logger.info("Billing run: batch retried after %s", error)
                self.env.cr.rollback()
                self.env.invalidate_all()
                continue
            retries = 0
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
