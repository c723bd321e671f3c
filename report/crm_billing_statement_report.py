# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from collections import defaultdict
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.fields import Domain

STATEMENT_TYPES = [
    ("outstanding", "Outstanding Statement"),
    ("activity", "Activity Statement"),
]

#: ageing buckets of the outstanding statement: (key, first day late, last day late)
AGEING_BUCKETS = (
    ("not_due", None, 0),
    ("1_30", 1, 30),
    ("31_60", 31, 60),
    ("61_90", 61, 90),
    ("90_plus", 91, None),
)


class ReportCrmBillingStatement(models.AbstractModel):
    """The customer statement: what a customer (commercial partner) owes and paid,
    per currency, from its posted receivable journal items.

    - *outstanding*: the items still open at ``date_to`` with what was left of them
      on that day (residuals as Odoo computes them, less the reconciliations made
      after that day), aged by due date;
    - *activity*: the balance on the eve of ``date_from``, every item from
      ``date_from`` to ``date_to`` with the running balance, and the closing balance.

    A payment or credit note reconciled with an invoice of another currency counts
    in the invoice's currency, for the amount it settled there (the reconciliation's
    amount): each currency's closing balance is then what is still open in it, and
    the statement of a customer in the company currency closes on its receivable
    balance, to the cent. The figures of many customers are computed together, with
    a few batched searches (no query per customer or per line)."""

    _name = "report.crm_billing.report_statement"
    _inherit = "crm.billing.document.report"
    _description = "CRM Billing Customer Statement"

    _document_model = "res.partner"

    # --- Options ---

    @api.model
    def _get_options(self, data=None):
        """Statement type and dates from the report's data, else from the context key
        ``crm_billing_statement`` (the portal's way, through ``_show_report``)."""
        options = dict(self.env.context.get("crm_billing_statement") or {})
        options.update(
            {
                k: v
                for k, v in (data or {}).items()
                if k in ("statement_type", "date_from", "date_to")
            }
        )
        return self._check_options(options)

    @api.model
    def _check_options(self, options):
        statement_type = options.get("statement_type") or "outstanding"
        if statement_type not in dict(STATEMENT_TYPES):
            raise UserError(_("Unknown statement type: %s", statement_type))
        today = fields.Date.context_today(self)
        date_to = fields.Date.to_date(options.get("date_to")) or today
        date_from = fields.Date.to_date(options.get("date_from")) or date_to.replace(day=1)
        if statement_type == "activity" and date_from > date_to:
            raise UserError(
                _(
                    "The statement cannot start on %(start)s, after its end on %(end)s.",
                    start=date_from,
                    end=date_to,
                )
            )
        return {
            "statement_type": statement_type,
            "date_from": date_from if statement_type == "activity" else False,
            "date_to": date_to,
        }

    # --- Who may read statements ---

    @api.model
    def _check_statement_access(self, partners):
        """Statements are read from the accounting as superuser: internal users need
        billing or invoicing rights, a portal user gets its own commercial partner's
        statement only."""
        user = self.env.user
        if user._is_internal():
            if not self.env.su:
                # the customers themselves must be the user's to read
                partners.check_access("read")
                self._check_statement_customers(partners)
            if self.env.su or any(
                user.has_group(group)
                for group in (
                    "crm_billing.group_billing_user",
                    "account.group_account_invoice",
                    "account.group_account_readonly",
                )
            ):
                return
        elif user._is_portal() and partners.commercial_partner_id == user.commercial_partner_id:
            return
        raise AccessError(_("You are not allowed to read these customer statements."))

    @api.model
    def _check_statement_customers(self, partners):
        """A statement lists every invoice of the customer: a salesperson with his
        own documents only gets those of his customers and of customers without a
        salesperson, as the record rule on the statements sent says."""
        user = self.env.user
        if any(
            user.has_group(group)
            for group in (
                "sales_team.group_sale_salesman_all_leads",
                "account.group_account_invoice",
                "account.group_account_readonly",
                "crm_billing.group_billing_manager",
            )
        ):
            return
        foreign = partners.sudo().commercial_partner_id.filtered(
            lambda partner: partner.user_id and partner.user_id != user
        )
        if foreign:
            raise AccessError(
                _(
                    "You may only print or send the statements of your own customers "
                    "(%s has another salesperson).",
                    foreign[0].display_name,
                )
            )

    # --- Figures ---

    @api.model
    def _get_base_domain(self, partners, company):
        return Domain(
            [
                ("partner_id", "in", partners.ids),
                ("company_id", "=", company.id),
                ("account_type", "=", "asset_receivable"),
                ("parent_state", "=", "posted"),
            ]
        )

    @api.model
    def _get_statements(self, partners, options, company=None):
        """The statements of ``partners``' commercial partners in ``company`` (default:
        the current one), as ``{commercial partner: statement}``; see
        ``_new_statement`` for what a statement holds. Read as superuser: callers
        check who may read them (``_check_statement_access``)."""
        company = company or self.env.company
        options = self._check_options(options)
        customers = partners.commercial_partner_id.sudo()
        Line = self.env["account.move.line"].sudo().with_company(company)
        if options["statement_type"] == "outstanding":
            return self._get_outstanding_statements(Line, customers, company, options)
        return self._get_activity_statements(Line, customers, company, options)

    @api.model
    def _new_statement(self, partner, company, options):
        return {
            "partner": partner,
            "company": company,
            "statement_type": options["statement_type"],
            "date_from": options["date_from"],
            "date_to": options["date_to"],
            # one section per currency, ordered by currency name
            "sections": [],
            # receivable balance at date_to, in company currency
            "company_currency": company.currency_id,
            "company_balance": 0.0,
            "show_company_balance": False,
        }

    @api.model
    def _new_section(self, currency):
        return {
            "currency": currency,
            "lines": [],
            "opening": 0.0,
            "closing": 0.0,
            "buckets": {key: 0.0 for key, *_rest in AGEING_BUCKETS},
            "amount_in_words": "",
        }

    @api.model
    def _company_balances(self, Line, customers, company, date_to):
        """Receivable balance of each customer at ``date_to``, in company currency."""
        return {
            partner: company.currency_id.round(balance)
            for partner, balance in Line._read_group(
                self._get_base_domain(customers, company) & Domain("date", "<=", date_to),
                ["partner_id"],
                ["balance:sum"],
            )
        }

    @api.model
    def _line_kind(self, line):
        move = line.move_id
        if move.move_type == "out_invoice":
            return _("Invoice")
        if move.move_type == "out_refund":
            return _("Credit Note")
        if move.move_type == "out_receipt":
            return _("Receipt")
        if line.payment_id or move.statement_line_id:
            return _("Payment") if line.balance < 0 else _("Payment Refund")
        if move.journal_id == line.company_id.currency_exchange_journal_id:
            return _("Exchange Difference")
        return _("Journal Entry")

    @api.model
    def _line_description(self, line):
        """What the item is, with the customer's reference or the payment's memo."""
        kind = self._line_kind(line)
        detail = line.move_id.ref
        return f"{kind}: {detail}" if detail and detail != line.move_name else kind

    # --- Outstanding ---

    @api.model
    def _get_outstanding_statements(self, Line, customers, company, options):
        date_to = options["date_to"]
        base = self._get_base_domain(customers, company) & Domain("date", "<=", date_to)
        # reconciliations made after the statement date do not count yet: the items
        # they closed were still open on that day
        later = (
            self.env["account.partial.reconcile"]
            .sudo()
            .search(
                [
                    ("company_id", "=", company.id),
                    ("max_date", ">", date_to),
                    "|",
                    ("debit_move_id.partner_id", "in", customers.ids),
                    ("credit_move_id.partner_id", "in", customers.ids),
                ]
            )
        )
        reopened_ids = set(later.debit_move_id.ids) | set(later.credit_move_id.ids)
        lines = Line.search(
            base & (Domain("reconciled", "=", False) | Domain("id", "in", list(reopened_ids))),
            order="date_maturity, date, move_name, id",
        )
        added_back = defaultdict(lambda: [0.0, 0.0])  # line id: [company, currency]
        for partial in later:
            added_back[partial.debit_move_id.id][0] += partial.amount
            added_back[partial.debit_move_id.id][1] += partial.debit_amount_currency
            added_back[partial.credit_move_id.id][0] -= partial.amount
            added_back[partial.credit_move_id.id][1] -= partial.credit_amount_currency
        balances = self._company_balances(Line, customers, company, date_to)
        statements = {}
        for customer in customers:
            statements[customer] = self._new_statement(customer, company, options)
        sections = defaultdict(dict)
        for line in lines:
            currency = line.currency_id
            back = added_back.get(line.id, (0.0, 0.0))
            residual = company.currency_id.round(line.amount_residual + back[0])
            residual_currency = currency.round(line.amount_residual_currency + back[1])
            if currency.is_zero(residual_currency) and company.currency_id.is_zero(residual):
                continue
            statement = statements[line.partner_id]
            section = sections[line.partner_id].get(currency)
            if section is None:
                section = sections[line.partner_id][currency] = self._new_section(currency)
            due = line.date_maturity or line.date
            days_late = (date_to - due).days
            bucket = next(
                key
                for key, first, last in AGEING_BUCKETS
                if (first is None or days_late >= first) and (last is None or days_late <= last)
            )
            section["buckets"][bucket] += residual_currency
            section["closing"] += residual_currency
            section["lines"].append(
                {
                    "line": line,
                    "date": line.date,
                    "date_due": due,
                    "days_late": max(days_late, 0),
                    "reference": line.move_name,
                    "description": self._line_description(line),
                    "amount": line.amount_currency,
                    "open": residual_currency,
                    "balance": currency.round(section["closing"]),
                    "note": "",
                }
            )
        for customer, statement in statements.items():
            self._finish_statement(statement, sections.get(customer, {}), balances)
        return statements

    # --- Activity ---

    @api.model
    def _get_activity_statements(self, Line, customers, company, options):
        date_from, date_to = options["date_from"], options["date_to"]
        base = self._get_base_domain(customers, company)
        # payments and credit notes reconciled with items of another currency count in
        # that currency, for what they settled there
        cross = (
            self.env["account.partial.reconcile"]
            .sudo()
            .search(
                [
                    ("company_id", "=", company.id),
                    ("max_date", "<=", date_to),
                    ("credit_move_id.partner_id", "in", customers.ids),
                    ("credit_move_id.account_type", "=", "asset_receivable"),
                    ("credit_move_id.parent_state", "=", "posted"),
                ]
            )
            .filtered(lambda p: p.debit_currency_id != p.credit_currency_id)
        )
        moved = defaultdict(list)  # credit line: [(currency, own-currency amount, amount there)]
        for partial in cross:
            moved[partial.credit_move_id].append(
                (
                    partial.debit_currency_id,
                    partial.credit_amount_currency,
                    partial.debit_amount_currency,
                )
            )
        opening = defaultdict(lambda: defaultdict(float))  # partner: currency: amount
        for partner, currency, amount in Line._read_group(
            base & Domain("date", "<", date_from),
            ["partner_id", "currency_id"],
            ["amount_currency:sum"],
        ):
            opening[partner][currency] += amount
        for credit_line, chunks in moved.items():
            if credit_line.date < date_from:
                for currency, own_amount, there in chunks:
                    opening[credit_line.partner_id][credit_line.currency_id] += own_amount
                    opening[credit_line.partner_id][currency] -= there
        lines = Line.search(
            base & Domain("date", ">=", date_from) & Domain("date", "<=", date_to),
            order="date, move_name, id",
        )
        balances = self._company_balances(Line, customers, company, date_to)
        statements = {}
        sections = defaultdict(dict)

        def section_of(partner, currency):
            section = sections[partner].get(currency)
            if section is None:
                section = sections[partner][currency] = self._new_section(currency)
                section["opening"] = section["closing"] = currency.round(
                    opening[partner].get(currency, 0.0)
                )
            return section

        for customer in customers:
            statements[customer] = self._new_statement(customer, company, options)
            for currency, amount in opening[customer].items():
                if not currency.is_zero(amount):
                    section_of(customer, currency)
        for line in lines:
            parts = [(line.currency_id, line.amount_currency, "")]
            for currency, own_amount, there in moved.get(line, ()):
                parts[0] = (parts[0][0], parts[0][1] + own_amount, "")
                parts.append(
                    (
                        currency,
                        -there,
                        # what was paid or credited, in its own currency
                        line.currency_id.format(own_amount),
                    )
                )
            for currency, amount, note in parts:
                if currency.is_zero(amount):
                    continue
                section = section_of(line.partner_id, currency)
                section["closing"] += amount
                section["lines"].append(
                    {
                        "line": line,
                        "date": line.date,
                        "date_due": line.date_maturity if amount > 0 else False,
                        "days_late": 0,
                        "reference": line.move_name,
                        "description": self._line_description(line),
                        "amount": currency.round(amount),
                        "open": 0.0,
                        "balance": currency.round(section["closing"]),
                        "note": note,
                    }
                )
        for customer, statement in statements.items():
            self._finish_statement(statement, sections.get(customer, {}), balances)
        return statements

    # --- Totals ---

    @api.model
    def _finish_statement(self, statement, sections, balances):
        company = statement["company"]
        lang = self._document_lang(statement["partner"], company)
        for currency in sorted(sections, key=lambda c: (c != company.currency_id, c.name)):
            section = sections[currency]
            section["opening"] = currency.round(section["opening"])
            section["closing"] = currency.round(section["closing"])
            section["buckets"] = {k: currency.round(v) for k, v in section["buckets"].items()}
            section["amount_in_words"] = self._amount_in_words(currency, section["closing"], lang)
            statement["sections"].append(section)
        statement["company_balance"] = balances.get(statement["partner"], 0.0)
        statement["show_company_balance"] = any(
            section["currency"] != company.currency_id for section in statement["sections"]
        )
        return statement

    @api.model
    def _is_empty(self, statement):
        """Nothing to tell the customer: a zero balance in every currency and, for an
        activity statement, no movement in the period."""
        company_currency = statement["company_currency"]
        return company_currency.is_zero(statement["company_balance"]) and all(
            section["currency"].is_zero(section["closing"])
            and (statement["statement_type"] == "outstanding" or not section["lines"])
            for section in statement["sections"]
        )

    @api.model
    def _amounts_due_text(self, statement):
        """What the statement asks for, one amount per currency ("$ 1,369.74")."""
        amounts = [
            section["currency"].format(section["closing"]) for section in statement["sections"]
        ]
        return ", ".join(amounts) or statement["company_currency"].format(0.0)

    # --- Report ---

    @api.model
    def _get_report_values(self, docids, data=None):
        options = self._get_options(data)
        partners = self.env["res.partner"].browse(docids)
        self._check_statement_access(partners)
        statements = self._get_statements(partners, options)
        ordered = []
        for partner in partners.commercial_partner_id:
            ordered.append(statements[partner.sudo()])
        values = self._get_common_values(docids, data)
        values.update(
            {
                "docs": partners.commercial_partner_id.sudo(),
                "statements": ordered,
                "options": options,
                "statement_title": dict(STATEMENT_TYPES)[options["statement_type"]],
                "eve": (options["date_from"] - timedelta(days=1))
                if options["date_from"]
                else False,
            }
        )
        return values
