# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import base64
import hashlib
import hmac
import re

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL, float_repr

from .billing_locks import lock_rows

RECEIPT_SEQUENCE_CODE = "crm.billing.receipt"
RECEIPT_POSTED_STATES = ("in_process", "paid")
RECEIPT_VERIFY_PATH = "/billing/receipt/verify/"
# 20 bytes of HMAC-SHA256 are 160 bits: 32 base32 characters, no padding
RECEIPT_CODE_BYTES = 20
RECEIPT_CODE_RE = re.compile(r"^[A-Z2-7]{32}$")
#: written by the receipt code only, never by a client
RECEIPT_FIELDS = ("receipt_number", "receipt_print_count", "receipt_verification_code")
#: context key under which the receipt code writes them
RECEIPT_ISSUING_KEY = "crm_billing_receipt_issuing"
#: context key of the Send Receipt window: what it renders is not a print
RECEIPT_NO_PRINT_KEY = "crm_billing_receipt_no_print"


class AccountPayment(models.Model):
    _inherit = "account.payment"

    receipt_number = fields.Char(
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="Given from the company's receipt sequence the first time the receipt is printed.",
    )
    receipt_print_count = fields.Integer(
        string="Receipt Prints",
        readonly=True,
        copy=False,
        default=0,
        help="Every print after the first is marked as a copy.",
    )
    receipt_verification_code = fields.Char(
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="Printed on the receipt: anyone holding it can check it is genuine "
        "on the public verification page.",
    )

    _receipt_number_unique = models.Constraint(
        "UNIQUE(company_id, receipt_number)",
        "This receipt number is already used in the company.",
    )

    # --- Collection ---

    def _crm_billing_generate_journal_entries(self):
        """Give these draft payments their journal entries before they are posted,
        as ``action_post`` would (``_generate_journal_entry``, with each payment's own
        ``_generate_move_vals``), but linked to their payments in one statement.

        Odoo links each entry with a write on its payment alone, and each such write
        looks up, for that one payment, the invoices it is reconciled with (the
        invoices' payment status depends on their payments' state): two queries and
        a search per payment. ``action_post`` then finds the entries made, posts them
        and sets the payments' state, tracked, as usual."""
        payments = self.filtered(lambda p: not p.move_id and p.outstanding_account_id)
        if not payments:
            return
        moves = self.env["account.move"].create([pay._generate_move_vals() for pay in payments])
        payments.modified(["move_id"], before=True)
        self.env.cr.execute(
            SQL(
                "UPDATE account_payment AS payment SET move_id = link.move_id"
                " FROM unnest(%s::int[], %s::int[]) AS link(payment_id, move_id)"
                " WHERE payment.id = link.payment_id",
                payments.ids,
                moves.ids,
            )
        )
        payments.invalidate_recordset(["move_id"])
        payments.modified(["move_id"])

    def _crm_billing_link_invoices(self):
        """Name, on each of these payments, the invoices of its transaction
        (``invoice_ids``, as Odoo's ``payment.transaction._create_payment`` does), for
        the whole batch in one INSERT on the relation: an ORM write is one per payment.
        The caches of both sides are dropped and what depends on them is recomputed."""
        pairs = [
            (payment.id, invoice.id)
            for payment in self
            for invoice in payment.payment_transaction_id.invoice_ids
        ]
        if not pairs:
            return
        invoices = self.payment_transaction_id.invoice_ids
        self.flush_recordset(["invoice_ids"])
        invoices.flush_recordset(["matched_payment_ids"])
        field = self._fields["invoice_ids"]
        self.env.cr.execute(
            SQL(
                "INSERT INTO %s (%s, %s) SELECT * FROM unnest(%s::int[], %s::int[])"
                " ON CONFLICT DO NOTHING",
                SQL.identifier(field.relation),
                SQL.identifier(field.column1),
                SQL.identifier(field.column2),
                [payment_id for payment_id, _invoice_id in pairs],
                [invoice_id for _payment_id, invoice_id in pairs],
            )
        )
        self.invalidate_recordset(["invoice_ids"])
        invoices.invalidate_recordset(["matched_payment_ids"])
        self.modified(["invoice_ids"])
        invoices.modified(["matched_payment_ids"])

    # --- Receipt fields belong to the receipt code ---

    @api.model
    def _crm_billing_check_receipt_fields(self, vals):
        # the key alone is no proof: a JSON-RPC caller sets any context key it likes;
        # the receipt code writes as superuser (_crm_billing_receipt_writer)
        issuing = self.env.su and self.env.context.get(RECEIPT_ISSUING_KEY)
        if not issuing and set(RECEIPT_FIELDS) & set(vals):
            raise AccessError(
                _(
                    "A receipt's number, verification code and print count are given when "
                    "it is printed; they cannot be set by hand."
                )
            )

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._crm_billing_check_receipt_fields(vals)
        return super().create(vals_list)

    def write(self, vals):
        self._crm_billing_check_receipt_fields(vals)
        return super().write(vals)

    def _crm_billing_receipt_writer(self):
        """These payments as the receipt code writes them."""
        return self.sudo().with_context(**{RECEIPT_ISSUING_KEY: True})

    # --- Receipt issuing ---

    def _crm_billing_check_receipt_printable(self):
        """Refuse receipts for anything but posted customer payments."""
        states = dict(self._fields["state"]._description_selection(self.env))
        for payment in self:
            if payment.state not in RECEIPT_POSTED_STATES:
                raise UserError(
                    _(
                        "A receipt can only be printed for a posted payment: %(payment)s is %(state)s.",
                        payment=payment.display_name,
                        state=states.get(payment.state, payment.state),
                    )
                )
            if payment.payment_type != "inbound":
                raise UserError(
                    _(
                        "Receipts are issued for money received: %s is an outgoing payment.",
                        payment.display_name,
                    )
                )

    def _crm_billing_lock_receipts(self):
        """Serialise receipt issuing: two users printing the same payment at once
        must not draw two numbers."""
        lock_rows(self, ["receipt_number", "receipt_print_count", "receipt_verification_code"])

    @api.model
    def _crm_billing_prepare_receipt_sequence_vals(self, company):
        return {
            "name": _("Receipts (%s)", company.name),
            "code": RECEIPT_SEQUENCE_CODE,
            "prefix": "RCPT/%(range_year)s/",
            "padding": 5,
            "use_date_range": True,
            # numbers of legal documents have no gaps
            "implementation": "no_gap",
            "company_id": company.id,
        }

    @api.model
    def _crm_billing_create_receipt_sequences(self, companies=None):
        """Give each company its receipt sequence (at install and when a company is
        created), so that two first prints never race to create it."""
        companies = self.env["res.company"].sudo().search([]) if companies is None else companies
        Sequence = self.env["ir.sequence"].sudo()
        existing = Sequence.search(
            [("code", "=", RECEIPT_SEQUENCE_CODE), ("company_id", "in", companies.ids)]
        )
        existing.filtered(lambda seq: seq.implementation != "no_gap").implementation = "no_gap"
        missing = companies - existing.company_id
        return Sequence.create(
            [self._crm_billing_prepare_receipt_sequence_vals(company) for company in missing]
        )

    @api.model
    def _crm_billing_receipt_sequence(self, company):
        """The company's receipt sequence. Made at install and with each company; a
        missing one is created under a lock on the company, so never twice."""
        Sequence = self.env["ir.sequence"].sudo()
        domain = [("code", "=", RECEIPT_SEQUENCE_CODE), ("company_id", "=", company.id)]
        sequence = Sequence.search(domain, limit=1)
        if not sequence:
            self.env.cr.execute(
                SQL("SELECT id FROM res_company WHERE id = %s FOR NO KEY UPDATE", company.id)
            )
            sequence = Sequence.search(domain, limit=1) or (
                self._crm_billing_create_receipt_sequences(company)
            )
        return sequence

    def _crm_billing_assign_receipt_number(self):
        """Give each payment without one its receipt number and verification code.
        Numbers are never changed once given."""
        self._crm_billing_check_receipt_printable()
        self._crm_billing_lock_receipts()
        to_number = self.filtered(lambda p: not p.receipt_number)
        for company, payments in to_number.grouped("company_id").items():
            sequence = self._crm_billing_receipt_sequence(company)
            for payment in payments.sorted(lambda p: (p.date, p.id)):
                number = sequence._next(sequence_date=payment.date)
                writer = payment._crm_billing_receipt_writer()
                writer.receipt_number = number
                writer.receipt_verification_code = payment._crm_billing_compute_verification_code()
        # a payment reset to draft, changed and posted again vouches for other facts:
        # its receipt gets a new code, and the old one no longer verifies
        for payment in self - to_number:
            code = payment._crm_billing_compute_verification_code()
            if code != payment.receipt_verification_code:
                payment._crm_billing_receipt_writer().receipt_verification_code = code
                payment._message_log(
                    body=_(
                        "Receipt %s changed since it was issued: it carries a new "
                        "verification code, and copies printed before no longer verify.",
                        payment.receipt_number,
                    )
                )

    def _crm_billing_register_receipt_print(self):
        """Record one print of these receipts: the first print numbers the receipt,
        every later one is counted and marked as a copy."""
        if not self:
            return
        self._crm_billing_assign_receipt_number()
        if self.env.context.get(RECEIPT_NO_PRINT_KEY):
            return
        self._crm_billing_count_receipt_print()

    def _crm_billing_count_receipt_print(self):
        """Count one print of each of these (numbered) receipts."""
        if not self:
            return
        self.env.cr.execute(
            SQL(
                "UPDATE account_payment SET receipt_print_count = COALESCE(receipt_print_count, 0) + 1"
                " WHERE id IN %s",
                tuple(self.ids),
            )
        )
        self.invalidate_recordset(["receipt_print_count"])

    # --- Verification ---

    def _crm_billing_receipt_facts(self):
        """The facts a receipt vouches for, as the message its code signs."""
        self.ensure_one()
        currency = self.currency_id
        return "|".join(
            [
                "crm_billing.receipt.v2",
                self.receipt_number or "",
                fields.Date.to_string(self.date) or "",
                float_repr(currency.round(self.amount), currency.decimal_places),
                currency.name or "",
                str(self.company_id.id),
                # the payer: the receipt of a payment moved to another customer
                # is not genuine any more
                str(self.partner_id.id),
            ]
        )

    def _crm_billing_compute_verification_code(self):
        """HMAC-SHA256 of the receipt's facts under the database secret: short enough
        to type, long enough (160 bits) that it cannot be guessed."""
        self.ensure_one()
        secret = self.env["ir.config_parameter"].sudo().get_param("database.secret")
        if not secret:
            raise UserError(_("The database has no secret to sign receipts with."))
        digest = hmac.new(
            secret.encode(), self._crm_billing_receipt_facts().encode(), hashlib.sha256
        ).digest()
        return base64.b32encode(digest[:RECEIPT_CODE_BYTES]).decode()

    @api.model
    def _crm_billing_normalize_verification_code(self, code):
        """Accept the code as printed (grouped with dashes or spaces, any case)."""
        code = re.sub(r"[\s-]", "", code or "").upper()
        return code if RECEIPT_CODE_RE.match(code) else False

    @api.model
    def _crm_billing_find_genuine_receipt(self, code):
        """The payment whose receipt carries this code, or an empty recordset.

        Only the full code finds a receipt, and the code is then recomputed from the
        stored facts and compared in constant time: a receipt whose facts were
        altered after issuing, or a code copied onto another record, is not genuine."""
        code = self._crm_billing_normalize_verification_code(code)
        Payment = self.sudo()
        if not code:
            return Payment.browse()
        payment = Payment.search(
            [
                ("receipt_verification_code", "=", code),
                ("receipt_number", "!=", False),
                ("state", "in", RECEIPT_POSTED_STATES),
            ],
            limit=1,
        )
        expected = payment._crm_billing_compute_verification_code() if payment else "A" * 32
        if hmac.compare_digest(expected.encode(), code.encode()) and payment:
            return payment
        return Payment.browse()

    def _crm_billing_receipt_verify_url(self):
        self.ensure_one()
        base_url = self.get_base_url().rstrip("/")
        return f"{base_url}{RECEIPT_VERIFY_PATH}{self.receipt_verification_code or ''}"

    def _crm_billing_receipt_code_display(self):
        """The code in groups of four, easier to read out and type."""
        self.ensure_one()
        code = self.receipt_verification_code or ""
        return "-".join(code[i : i + 4] for i in range(0, len(code), 4))

    def _crm_billing_receipt_qr_data_uri(self):
        """QR code of the verification URL, inline so the PDF needs no web request."""
        self.ensure_one()
        if not self.receipt_verification_code:
            return False
        png = self.env["ir.actions.report"].barcode(
            "QR", self._crm_billing_receipt_verify_url(), width=240, height=240, barLevel="M"
        )
        return "data:image/png;base64," + base64.b64encode(png).decode()

    # --- Receipt contents ---

    def _crm_billing_receipt_settlements(self):
        """What this payment settled: for each invoice, the amount applied by this
        payment and what remains due on the invoice, in the invoice's currency."""
        self.ensure_one()
        settlements = []
        invoices = self.reconciled_invoice_ids or self.invoice_ids.filtered(
            lambda m: m.is_sale_document(include_receipts=True)
        )
        for invoice in invoices.sorted(lambda m: (m.invoice_date or m.date, m.id)):
            applied = 0.0
            for _partial, amount, counterpart in invoice._get_reconciled_invoices_partials()[0]:
                if counterpart.payment_id == self or counterpart.move_id == self.move_id:
                    applied += amount
            settlements.append(
                {
                    "invoice": invoice,
                    "applied": applied,
                    "residual": invoice.amount_residual,
                    "currency": invoice.currency_id,
                }
            )
        return settlements

    # --- Actions ---

    def _get_report_base_filename(self):
        """The receipt's file name where Odoo names it (portal downloads)."""
        self.ensure_one()
        return self.name

    def action_print_receipt(self):
        self._crm_billing_check_receipt_printable()
        return self.env.ref("account.action_report_payment_receipt").report_action(self)

    def action_send_receipt(self):
        """Open the mail composer with the receipt template; the receipt is numbered
        now so that the message can quote its number."""
        self._crm_billing_assign_receipt_number()
        template = self.env.ref("crm_billing.mail_template_receipt", raise_if_not_found=False)
        ctx = {
            "default_model": "account.payment",
            "default_res_ids": self.ids,
            "default_template_id": template.id if template else False,
            "default_composition_mode": "comment" if len(self) == 1 else "mass_mail",
            "default_email_layout_xmlid": "mail.mail_notification_light",
            # the window renders the receipt to attach it: a print only once sent
            RECEIPT_NO_PRINT_KEY: True,
        }
        return {
            "name": _("Send Receipt"),
            "type": "ir.actions.act_window",
            "res_model": "mail.compose.message",
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
            "context": ctx,
        }
