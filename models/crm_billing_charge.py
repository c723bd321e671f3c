# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging
from datetime import timedelta

from markupsafe import Markup
from psycopg2 import errors as pg_errors

from odoo import SUPERUSER_ID, Command, _, api, fields, models
from odoo.exceptions import AccessError
from odoo.tools import SQL

from .billing_locks import lock_rows
from .payment_transaction import DEFER_TX_LOG_KEY

_logger = logging.getLogger(__name__)

#: transaction states after which a charge is settled, one way or the other
SETTLED_TX_STATES = ("done", "cancel", "error")
#: transaction states that mean the invoice is being paid (or is paid) already
PAYING_TX_STATES = ("pending", "authorized", "done")


class CrmBillingCharge(models.Model):
    """One attempt at charging an invoice with the customer's saved payment method.

    A charge is committed as ``pending``, with the reference of its transaction,
    before the provider is called; it is settled from that transaction's state
    afterwards. A run that crashed between the provider's answer and its commit thus
    leaves a pending charge whose transaction is found again by reference (the
    provider's notification, or the next run) and is never charged a second time.
    The database keeps at most one pending charge per invoice and one charge per
    (invoice, attempt)."""

    _name = "crm.billing.charge"
    _description = "Billing Charge"
    _order = "date desc, id desc"
    _rec_name = "transaction_id"
    _check_company_auto = True

    #: invoices claimed and charged per committed batch by the cron
    _CRON_BATCH_SIZE = 50

    invoice_id = fields.Many2one(
        "account.move",
        required=True,
        readonly=True,
        index=True,
        ondelete="cascade",
        check_company=True,
    )
    company_id = fields.Many2one(related="invoice_id.company_id", store=True, index=True)
    partner_id = fields.Many2one(
        related="invoice_id.commercial_partner_id", string="Customer", store=True, index=True
    )
    schedule_id = fields.Many2one(
        related="invoice_id.billing_schedule_id", string="Schedule", store=True, index=True
    )
    user_id = fields.Many2one(related="schedule_id.user_id", string="Salesperson")
    currency_id = fields.Many2one(related="invoice_id.currency_id", store=True)
    amount = fields.Monetary(readonly=True)
    token_id = fields.Many2one("payment.token", string="Payment Method", readonly=True)
    transaction_id = fields.Many2one(
        "payment.transaction", readonly=True, index="btree_not_null", ondelete="restrict"
    )
    transaction_state = fields.Selection(related="transaction_id.state")
    payment_id = fields.Many2one(related="transaction_id.payment_id")
    state = fields.Selection(
        [
            ("pending", "Pending"),
            ("done", "Paid"),
            ("failed", "Failed"),
            ("cancelled", "Cancelled"),
        ],
        default="pending",
        required=True,
        readonly=True,
        index=True,
    )
    attempt = fields.Integer(default=1, required=True, readonly=True)
    date = fields.Datetime(default=fields.Datetime.now, required=True, readonly=True)
    next_retry_date = fields.Date(readonly=True)
    failure_reason = fields.Char(readonly=True)
    is_last_attempt = fields.Boolean(
        readonly=True, help="Failed with no retry left: the invoice is left to the reminders."
    )
    amount_collected = fields.Monetary(
        compute="_compute_amounts_collected",
        store=True,
        help="What this attempt collected.",
    )
    amount_recovered = fields.Monetary(
        string="Recovered by Retries",
        compute="_compute_amounts_collected",
        store=True,
        help="What this attempt collected after an earlier attempt failed.",
    )

    _invoice_open_unique = models.UniqueIndex(
        "(invoice_id) WHERE state = 'pending'",
        "This invoice is already being charged.",
    )
    _invoice_attempt_unique = models.Constraint(
        "UNIQUE(invoice_id, attempt)",
        "This attempt at charging the invoice was already made.",
    )

    @api.depends("state", "amount", "attempt")
    def _compute_amounts_collected(self):
        for charge in self:
            collected = charge.amount if charge.state == "done" else 0.0
            charge.amount_collected = collected
            charge.amount_recovered = collected if charge.attempt > 1 else 0.0

    # --- Rights ---

    @api.model
    def _check_charge_rights(self):
        """Charging a customer needs Invoicing rights or Billing Manager, whatever the
        button or RPC call that asks for it."""
        user = self.env.user
        if not self.env.su and not (
            user.has_group("account.group_account_invoice")
            or user.has_group("crm_billing.group_billing_manager")
        ):
            raise AccessError(
                _("Only users with Invoicing rights or billing managers may charge customers.")
            )

    # --- Claiming due work ---

    @api.model
    def _get_due_invoices_domain(self, today):
        """Posted customer invoices due for a charge today: never one paid or in
        payment, nor one with a transaction under way or done."""
        return [
            ("billing_next_charge_date", "<=", today),
            ("move_type", "=", "out_invoice"),
            ("state", "=", "posted"),
            ("payment_state", "in", ("not_paid", "partial")),
            ("transaction_ids", "not any", [("state", "in", PAYING_TX_STATES)]),
        ]

    @api.model
    def _claim_due_invoices(self, today, limit, exclude_ids=()):
        """Lock up to ``limit`` due invoices that no other transaction holds and return
        them; those locked by another worker are skipped, not waited for."""
        Move = self.env["account.move"].sudo()
        domain = self._get_due_invoices_domain(today)
        if exclude_ids:
            domain = [*domain, ("id", "not in", list(exclude_ids))]
        query = Move._search(domain, order="id", limit=limit)
        self.env.cr.execute(SQL("%s FOR NO KEY UPDATE OF account_move SKIP LOCKED", query.select()))
        return Move.browse(row[0] for row in self.env.cr.fetchall())

    @api.model
    def _claim_settled_charges(self, limit, exclude_ids=()):
        """Lock up to ``limit`` pending charges whose transaction has settled."""
        domain = [("state", "=", "pending"), ("transaction_id.state", "in", SETTLED_TX_STATES)]
        if exclude_ids:
            domain = [*domain, ("id", "not in", list(exclude_ids))]
        query = self.sudo()._search(domain, order="id", limit=limit)
        rows = self.env.execute_query(
            SQL("%s FOR NO KEY UPDATE OF crm_billing_charge SKIP LOCKED", query.select())
        )
        return self.sudo().browse(row[0] for row in rows)

    # --- Charging ---

    @api.model
    def _invoice_blocker(self, invoice, token):
        """Why ``invoice`` cannot be charged with ``token`` now, or None."""
        if invoice.state != "posted" or invoice.move_type != "out_invoice":
            return _("only posted customer invoices are charged")
        if invoice.payment_state not in ("not_paid", "partial") or invoice.currency_id.is_zero(
            invoice.amount_residual
        ):
            return _("the invoice is paid or in payment")
        if invoice.transaction_ids.filtered(lambda tx: tx.state in PAYING_TX_STATES):
            return _("a payment of the invoice is already under way")
        if not token:
            return _("the schedule has no payment method")
        if not token.active:
            return _("the payment method %s was removed", token.display_name)
        if token.partner_id.commercial_partner_id != invoice.commercial_partner_id:
            return _("the payment method belongs to another customer")
        return None

    @api.model
    def _prepare_transaction_vals(self, invoice, token):
        return {
            "provider_id": token.provider_id.id,
            "payment_method_id": token.payment_method_id.id,
            "reference": self.env["payment.transaction"]._compute_reference(
                token.provider_id.code, prefix=invoice.name
            ),
            "amount": invoice.amount_residual,
            "currency_id": invoice.currency_id.id,
            "partner_id": invoice.partner_id.id,
            "token_id": token.id,
            "operation": "offline",
            "invoice_ids": [Command.set(invoice.ids)],
        }

    @api.model
    def _create_charges(self, invoices):
        """Open one pending charge, with its draft transaction, per chargeable invoice
        (already locked by the caller). Nothing is sent to a provider here: the
        caller commits these charges first, then calls ``_send``."""
        Charge = self.sudo()
        invoices = invoices.sudo()
        vals_list = []
        tx_vals_list = []
        blocked = invoices.browse()
        for invoice in invoices:
            token = invoice.billing_schedule_id.payment_token_id
            reason = self._invoice_blocker(invoice, token)
            if reason:
                blocked |= invoice
                if token and invoice.payment_state in ("not_paid", "partial"):
                    invoice._message_log(body=_("Not charged automatically: %s.", reason))
                continue
            attempt = max(invoice.billing_charge_ids.mapped("attempt"), default=0) + 1
            tx_vals_list.append(self._prepare_transaction_vals(invoice, token))
            vals_list.append(
                {
                    "invoice_id": invoice.id,
                    "token_id": token.id,
                    "amount": invoice.amount_residual,
                    "attempt": attempt,
                }
            )
        # No charge is planned any more for the claimed invoices (a failure plans
        # the retry). Written in SQL: the field has no dependants, and a write on
        # posted invoices through account.move.write would re-check their lines.
        invoices.flush_recordset(["billing_next_charge_date"])
        self.env.cr.execute(
            SQL(
                "UPDATE account_move SET billing_next_charge_date = NULL WHERE id = ANY(%s)",
                invoices.ids,
            )
        )
        invoices.invalidate_recordset(["billing_next_charge_date"])
        if not vals_list:
            return Charge
        transactions = self.env["payment.transaction"].sudo().create(tx_vals_list)
        for vals, transaction in zip(vals_list, transactions, strict=True):
            vals["transaction_id"] = transaction.id
        return Charge.create(vals_list)

    def _lock_invoices(self):
        """Lock the invoices of these charges, waiting for whoever holds them (a user
        registering a payment): what they commit is seen before any provider is called."""
        invoices = self.invoice_id
        if invoices:
            lock_rows(invoices)
            # one query for the batch: read through the charges' prefetch set, the
            # links would be read invoice by invoice once a commit has emptied it
            invoices.fetch(["transaction_ids"])
            invoices.transaction_ids.invalidate_recordset()

    def _send(self):
        """Ask the providers to charge these pending charges (committed beforehand),
        then settle them from their transactions' answers."""
        charges = self.sudo().filtered(
            lambda c: c.state == "pending" and c.transaction_id.state == "draft"
        )
        charges._lock_invoices()
        sent = charges.browse()
        for charge in charges:
            invoice = charge.invoice_id
            transaction = charge.transaction_id
            reason = charge._blocker_before_send()
            if reason:
                transaction._set_canceled(state_message=reason)
                charge.write({"state": "cancelled", "failure_reason": reason})
                invoice._message_log(body=_("Charge cancelled before it was sent: %s.", reason))
                continue
            if invoice.currency_id.compare_amounts(invoice.amount_residual, transaction.amount):
                # paid in part meanwhile: charge what is left
                transaction.amount = charge.amount = invoice.amount_residual
            try:
                with self.env.cr.savepoint():
                    # its messages are logged in one batch by _settle
                    transaction.with_context(**{DEFER_TX_LOG_KEY: True})._charge_with_token()
                sent |= charge
            except Exception as error:
                if isinstance(error, pg_errors.OperationalError):
                    raise
                _logger.warning("Charge of %s failed: %s", invoice.name, error)
                transaction._set_error(str(error))
        return charges._settle(sent=sent)

    def _blocker_before_send(self):
        """Why this pending charge must not be sent after all, or None: the invoice
        was paid, or another payment started, since the charge was opened."""
        self.ensure_one()
        invoice = self.invoice_id
        if invoice.payment_state not in ("not_paid", "partial") or invoice.currency_id.is_zero(
            invoice.amount_residual
        ):
            return _("the invoice was paid meanwhile")
        if (invoice.transaction_ids - self.transaction_id).filtered(
            lambda tx: tx.state in PAYING_TX_STATES
        ):
            return _("another payment of the invoice is under way")
        if not self.token_id.active:
            return _("the payment method %s was removed", self.token_id.display_name)
        return None

    # --- Settling ---

    def _settle(self, sent=None):
        """Settle pending charges from their transactions' states: done ones are
        post-processed by Odoo (payment posted and reconciled with the invoice),
        failed ones scheduled for their retry, the others stay pending. ``sent``
        are the charges sent by this run, whose transactions' messages are not
        logged yet."""
        charges = self.sudo().filtered(lambda c: c.state == "pending")
        done = charges.filtered(lambda c: c.transaction_id.state == "done")
        failed = charges.filtered(lambda c: c.transaction_id.state in ("cancel", "error"))
        post_processed = self.env["payment.transaction"]
        if done:
            done.state = "done"
            post_processed = done.transaction_id.filtered(lambda tx: not tx.is_post_processed)
            done._create_payments()
            # Odoo's post-processing finds each payment made and only logs it
            post_processed.with_context(**{DEFER_TX_LOG_KEY: True})._post_process()
        charges._log_settled(sent or charges.browse(), post_processed)
        for charge in failed:
            charge._fail(charge.transaction_id.state_message or _("Refused by the provider"))
        return failed

    def _log_settled(self, sent, post_processed):
        """Log on each invoice, in one note, what Odoo's payment flow would have
        posted there one message at a time for the transaction of its charge: sent,
        answered (for the charges in ``sent``) and, for the transactions in
        ``post_processed``, its payment posted. One batched log per author; the
        note also carries the invoice's payment-status tracking when its author is
        the one of Odoo's tracking message (``_crm_billing_log_with_tracking``)."""
        bodies_by_author = {}
        for charge in self:
            transaction = charge.transaction_id.with_context(**{DEFER_TX_LOG_KEY: True})
            if not transaction._crm_billing_logs_itself():
                continue
            parts = []
            if charge in sent:
                parts += [transaction._get_sent_message(), transaction._get_received_message()]
            if transaction in post_processed and transaction.payment_id:
                parts.append(
                    _(
                        "The payment related to transaction %(ref)s has been posted: %(link)s",
                        ref=transaction._get_html_link(),
                        link=transaction.payment_id._get_html_link(),
                    )
                )
            parts = [part for part in parts if part]
            if not parts:
                continue
            # the author Odoo's own messages would have (_log_message_on_linked_documents)
            if self.env.uid == SUPERUSER_ID or self.env.context.get("payment_backend_action"):
                author = self.env.user.partner_id
            else:
                author = transaction.partner_id
            bodies = bodies_by_author.setdefault(author.id, {})
            bodies[charge.invoice_id.id] = Markup("<br/>").join(parts)
        Move = self.env["account.move"].sudo()
        for author_id, bodies in bodies_by_author.items():
            if author_id == self.env.user.partner_id.id:
                # the author of Odoo's tracking message too: it goes in the note
                Move.browse(bodies)._crm_billing_log_with_tracking(bodies, author_id)
            else:
                Move.browse(bodies)._message_log_batch(bodies, author_id=author_id)

    def _payable_transactions(self):
        """The done transactions of these charges that still need their payment, and
        that crm_billing pays in batch: one posted invoice each, no partial capture,
        no early payment discount (Odoo's own ``_create_payment`` handles those)."""
        return self.transaction_id.filtered(
            lambda tx: (
                tx.state == "done"
                and not tx.payment_id
                and not tx.is_post_processed
                and tx.operation == "offline"
                and not tx.source_transaction_id
                and not tx.child_transaction_ids
                and tx.amount > 0
                and len(tx.invoice_ids) == 1
                and tx.invoice_ids.state == "posted"
                and not tx.invoice_ids.invoice_payment_term_id.early_discount
            )
        )

    @api.model
    def _prepare_payment_vals(self, transaction):
        """Values of the payment of a done transaction, as Odoo's own
        ``payment.transaction._create_payment`` makes them, but its invoice: the
        payment names it once posted (``_create_payments``)."""
        provider = transaction.provider_id
        method_line = provider.journal_id.inbound_payment_method_line_ids.filtered(
            lambda line: line.payment_provider_id == provider
        )[:1]
        invoice = transaction.invoice_ids
        vals = {
            "amount": transaction.amount,
            "payment_type": "inbound",
            "currency_id": transaction.currency_id.id,
            "partner_id": transaction.partner_id.commercial_partner_id.id,
            "partner_type": "customer",
            "journal_id": provider.journal_id.id,
            "company_id": provider.company_id.id,
            "payment_method_line_id": method_line.id,
            "payment_token_id": transaction.token_id.id,
            "payment_transaction_id": transaction.id,
            "memo": f"{transaction.reference} - {transaction.provider_reference or ''}",
        }
        term_line = invoice.line_ids.filtered(lambda line: line.display_type == "payment_term")[:1]
        if term_line:
            vals["destination_account_id"] = term_line.account_id.id
        return vals

    def _create_payments(self):
        """Pay the invoices of these done charges in batch: one ``account.payment``
        per transaction (so one per invoice), all created at once, posted with one
        ``action_post`` and reconciled with their invoices in one pass, as Odoo's
        ``account.payment.register`` does for many invoices. Each transaction is then
        linked to its payment, so that Odoo's post-processing makes none again.

        The payments name their invoices (``invoice_ids``) only once posted and
        reconciled, all in one statement: named at create, every payment's own
        posting write would recompute its invoice's payment state, one at a time."""
        transactions = self.sudo()._payable_transactions()
        if not transactions:
            return self.env["account.payment"]
        Payment = self.env["account.payment"].sudo()
        payments = Payment
        for company, company_txs in transactions.grouped("company_id").items():
            created = Payment.with_company(company).create(
                [self._prepare_payment_vals(tx) for tx in company_txs]
            )
            # posting looks up each customer's fiscal position on a partner it
            # browses alone (account.move._compute_fiscal_position_id): read the
            # batch's at once, as Odoo's own payments have it from their destination
            # account's compute (given here, from the invoice)
            created.partner_id.with_company(company).fetch(["property_account_position_id"])
            # their journal entries linked in one statement, not one write each
            created._crm_billing_generate_journal_entries()
            created.action_post()
            # reconciled as Odoo's Register Payment reconciles, its lines carrying
            # skip_invoice_sync: reconciling changes no invoice line, so the
            # invoices' dynamic lines (terms, taxes, rounding) need no sync around it
            Line = (
                self.env["account.move.line"]
                .sudo()
                .with_company(company)
                .with_context(skip_invoice_sync=True)
            )
            plan = []
            for transaction, payment in zip(company_txs, created, strict=True):
                transaction.payment_id = payment
                lines = (payment.move_id.line_ids + transaction.invoice_ids.line_ids).filtered(
                    lambda line, account=payment.destination_account_id: (
                        line.account_id == account and not line.reconciled
                    )
                )
                plan.append(lines.with_env(Line.env))
            Line._reconcile_plan(plan)
            created._crm_billing_link_invoices()
            payments |= created
        return payments

    def _fail(self, reason):
        """Record a failed attempt: log it on the invoice, tell the customer, and
        schedule the next retry, or hand the invoice to the reminders."""
        self.ensure_one()
        invoice = self.invoice_id
        company = invoice.company_id
        today = fields.Date.context_today(self)
        next_date = self._next_retry_date(today)
        self.write(
            {
                "state": "failed",
                "failure_reason": reason,
                "next_retry_date": next_date,
                "is_last_attempt": not next_date,
            }
        )
        invoice.billing_next_charge_date = next_date
        if next_date:
            body = _(
                "Automatic charge of %(amount)s failed (attempt %(attempt)s): %(reason)s. "
                "Next attempt on %(date)s.",
                amount=invoice.currency_id.format(self.amount),
                attempt=self.attempt,
                reason=reason,
                date=next_date,
            )
        else:
            body = _(
                "Automatic charge of %(amount)s failed (attempt %(attempt)s): %(reason)s. "
                "No retry is left: the invoice is left to the payment reminders.",
                amount=invoice.currency_id.format(self.amount),
                attempt=self.attempt,
                reason=reason,
            )
            schedule = invoice.billing_schedule_id
            if company.billing_retry_pause_schedule and schedule.state == "running":
                schedule.action_pause()
                schedule.message_post(
                    body=_(
                        "Paused: invoice %s could not be charged after the last retry.",
                        invoice.name,
                    ),
                    message_type="notification",
                )
        invoice._message_log(body=body)

    def _next_retry_date(self, today):
        """The day of the next attempt after this failed one, counted from the
        invoice's first attempt by the company's retry days; None after the last."""
        self.ensure_one()
        offsets = self.invoice_id.company_id._billing_retry_offsets()
        retries_done = self.attempt - 1
        if retries_done >= len(offsets):
            return None
        first = self.invoice_id.billing_charge_ids.filtered(lambda c: c.attempt == 1)[:1]
        start = fields.Date.context_today(self, first.date) if first else today
        # a late run never makes the next attempt due at once
        return max(start + timedelta(days=offsets[retries_done]), today + timedelta(days=1))

    def _notify_customers(self, commit=None):
        """Email each customer whose charge failed. Done once the charges' answers
        are committed (``commit``): mailing a customer may write on its contact, which
        another worker mailing the same customer may be writing too; such a clash is
        retried on a fresh snapshot and never costs the charges."""
        for charge in self:
            for retry in range(3):
                try:
                    with self.env.cr.savepoint():
                        charge._notify_customer()
                    break
                except pg_errors.SerializationFailure:
                    if not commit or retry == 2:
                        raise
                    commit(0)
        if self and commit:
            commit(0)

    def _notify_customer(self):
        """Email the customer that the charge failed, with links to pay the invoice
        now and to change the payment method."""
        template = self.env.ref("crm_billing.mail_template_charge_failed", raise_if_not_found=False)
        if not template:
            return
        self.invoice_id.with_context(crm_billing_charge_id=self.id).message_post_with_source(
            template,
            subtype_xmlid="mail.mt_comment",
            message_type="comment",
            partner_ids=self.invoice_id.partner_id.ids,
        )

    # --- Scheduled action ---

    @api.model
    def _collect_payments(self, batch_size=None, commit=None):
        """Settle the pending charges whose transaction settled, then charge every
        due invoice, batch by batch. ``commit(processed)`` commits each step and
        returns the time left (``ir.cron._commit_progress``); without it nothing is
        committed (a user's transaction, a test)."""
        batch_size = batch_size or self._CRON_BATCH_SIZE
        today = fields.Date.context_today(self)

        def step(processed=0):
            return commit(processed) if commit else float("inf")

        Charge = self.sudo()
        settled = set()
        while True:
            try:
                with self.env.cr.savepoint(flush=False):
                    charges = Charge._claim_settled_charges(batch_size, settled)
            except pg_errors.SerializationFailure:
                step()
                continue
            if not charges:
                break
            settled.update(charges.ids)
            failed_charges = charges._settle()
            step()
            failed_charges._notify_customers(commit)
            if step(len(charges)) <= 0:
                return False
        failed = set()
        while True:
            try:
                with self.env.cr.savepoint():
                    invoices = Charge._claim_due_invoices(today, batch_size, failed)
                    if not invoices:
                        break
                    charges = Charge._create_charges(invoices)
            except (pg_errors.SerializationFailure, pg_errors.UniqueViolation):
                # another worker charged these invoices after our snapshot was taken:
                # take a fresh one and claim again
                if not commit:
                    raise
                step()
                continue
            # the charges and their transaction references are committed before any
            # provider is called: a crash from here on never leads to a second charge.
            # They are sent even when the run's time is up: a pending charge that was
            # never sent would wait for an answer that never comes.
            step()
            while True:
                try:
                    with self.env.cr.savepoint(flush=False):
                        charges._lock_invoices()
                    break
                except pg_errors.SerializationFailure:
                    # a payment of these invoices was committed while we waited for
                    # it: look again with a fresh snapshot
                    if not commit:
                        raise
                    step()
            # no retry past this point: a provider may have answered
            failed_charges = charges._send()
            step()
            failed_charges._notify_customers(commit)
            # claimed once per run, whatever became of them
            failed.update(invoices.ids)
            _logger.info(
                "Payment collection: %d invoices, %d charged, %d paid in this batch",
                len(invoices),
                len(charges),
                len(charges.filtered(lambda c: c.state == "done")),
            )
            if step(len(invoices)) <= 0:
                return False
        return True

    @api.model
    def _cron_collect_payments(self, batch_size=None):
        """Charge every due invoice with its schedule's payment method, in committed
        batches; several workers share a run through ``SKIP LOCKED`` claims."""
        return self._collect_payments(batch_size, commit=self.env["ir.cron"]._commit_progress)

    @api.model
    def _trigger_collection(self):
        cron = self.env.ref("crm_billing.ir_cron_collect_payments", raise_if_not_found=False)
        if cron:
            cron.sudo()._trigger()
