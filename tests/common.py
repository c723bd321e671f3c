# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import threading
from unittest.mock import patch

from odoo import SUPERUSER_ID, Command, api
from odoo.orm.environments import Transaction
from odoo.orm.registry import Registry
from odoo.tests import TransactionCase
from odoo.tools import mute_logger

from odoo.addons.account.tests.common import AccountTestInvoicingCommon


class BillingInvoiceHelpers:
    """Customer invoices and their payments for crm_billing's tests, made by Odoo's
    own test helpers (``AccountTestInvoicingCommon._create_invoice_one_line`` and
    ``_register_payment``). Mix in before ``AccountTestInvoicingCommon``."""

    @classmethod
    def _customer_invoice(
        cls,
        amount,
        partner=None,
        invoice_date=None,
        due=None,
        move_type="out_invoice",
        taxes=None,
        company=None,
        post=True,
        **vals,
    ):
        """A customer invoice (or credit note) of one line of ``amount``, untaxed
        unless ``taxes``, posted unless ``post`` is false. With ``due``, it falls due
        that day (no payment terms); ``company`` makes it in that company's sales
        journal."""
        if due is not None:
            vals.update(invoice_date_due=due, invoice_payment_term_id=False)
        if company is not None:
            vals["journal_id"] = cls.env["account.journal"].search(
                [("company_id", "=", company.id), ("type", "=", "sale")], limit=1
            )
        invoice = cls._create_invoice_one_line(
            price_unit=amount,
            name=vals.pop("name", "Service"),
            tax_ids=taxes if taxes is not None else cls.env["account.tax"],
            move_type=move_type,
            partner_id=partner or cls.customer,
            invoice_date=invoice_date,
            **vals,
        )
        if post:
            invoice.action_post()
        return invoice

    @classmethod
    def _pay(cls, invoices, amount, day, currency=None):
        """Register a payment of ``amount`` on ``day`` for ``invoices``, as the
        Register Payment button does; returns the payment."""
        vals = {"amount": amount, "payment_date": day}
        if currency:
            vals["currency_id"] = currency.id
        return cls._register_payment(invoices, **vals)


class BillingCommon(BillingInvoiceHelpers, AccountTestInvoicingCommon):
    """A company with a chart of accounts, a customer and a subscription product."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Schedule = cls.env["crm.billing.schedule"]
        cls.customer = cls.env["res.partner"].create(
            {
                "name": "Marlowe Consulting",
                "street": "1 Quay Street",
                "city": "Cork",
                "email": "accounts@marlowe.example.com",
            }
        )
        cls.product_sub = cls._create_product(
            name="Support subscription", lst_price=100.0, taxes_id=cls.tax_sale_a
        )

    @classmethod
    def _create_schedule(cls, lines=None, **vals):
        lines = (
            lines
            if lines is not None
            else [
                {
                    "product_id": cls.product_sub.id,
                    "name": "Support",
                    "quantity": 1,
                    "price_unit": 100.0,
                    "tax_ids": [Command.set(cls.tax_sale_a.ids)],
                }
            ]
        )
        return cls.Schedule.create(
            {
                "partner_id": cls.customer.id,
                "rule_type": "monthly",
                "interval": 1,
                "auto_post": True,
                "line_ids": [Command.create(line) for line in lines],
                **vals,
            }
        )


class ChargeCommon:
    """Mixin for collection tests: Odoo's demo payment provider of the test company,
    posting its payments to the bank journal, and demo tokens of the customer whose
    charges end in a chosen state (done, pending, cancel, error). Mix it in before
    ``PaymentDemoCommon`` and ``BillingCommon``."""

    @classmethod
    def _setup_charge_common(cls):
        cls.Charge = cls.env["crm.billing.charge"]
        cls.provider.journal_id = cls.company_data["default_journal_bank"]

    @classmethod
    def _demo_token(cls, state, partner=None, details=None):
        return cls.env["payment.token"].create(
            {
                "provider_id": cls.provider.id,
                "payment_method_id": cls.provider.payment_method_ids[:1].id,
                "partner_id": (partner or cls.customer).id,
                "payment_details": details or f"42{len(state):02d}",
                "provider_ref": f"demo {state}",
                "demo_simulated_state": state,
            }
        )


class CommittedWorkersCase(TransactionCase):
    """Several workers at once, for real: the test commits on cursors of its own
    (its own transaction cannot see what other workers commit), runs workers in
    threads that start together, and removes what it committed when it ends."""

    def _committed_env(self, cr):
        # give the cursor its transaction up front: building it from the database
        # name would wait for the registry lock that the test runner holds
        if cr.transaction is None:
            cr.transaction = Transaction(self.registry)
        return api.Environment(cr, SUPERUSER_ID, {})

    def _add_committed_cleanup(self, cleanup, *args):
        """Call ``cleanup(env, *args)`` on a committed cursor when the test ends."""

        def run():
            with self.registry.cursor() as cr:
                cleanup(self._committed_env(cr), *args)

        self.addCleanup(run)

    def _run_in_threads(self, *targets):
        """Run each ``target(env)`` in a thread of its own, on its own cursor, all
        starting together; fail with the errors any of them raised."""
        barrier = threading.Barrier(len(targets))
        errors = []

        def run(target):
            try:
                with self.registry.cursor() as cr:
                    env = self._committed_env(cr)
                    barrier.wait(timeout=30)
                    target(env)
            except Exception as error:  # reported below, in the test's thread
                errors.append(error)

        threads = [threading.Thread(target=run, args=(t,)) for t in targets]
        # Workers that clash on a row roll back and retry: PostgreSQL's complaint
        # about it is expected, not an error of the test. Some work opens a cursor
        # after its commit (account's partner ranks when a payment is posted): give
        # it its transaction up front too, as the registry lock is the test runner's.
        registry_cursor = Registry.cursor

        def cursor(registry, readonly=False):
            cr = registry_cursor(registry, readonly)
            if cr.transaction is None:
                cr.transaction = Transaction(registry)
            return cr

        with mute_logger("odoo.sql_db"), patch.object(Registry, "cursor", cursor):
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=300)
        self.assertFalse(errors, errors)
