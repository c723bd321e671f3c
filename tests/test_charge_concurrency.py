# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Payment collection with several workers and crashes, for real: these tests
commit on their own cursors (see test_concurrency) and clean up after themselves."""

from odoo import Command, fields
from odoo.tests import tagged

from .common import CommittedWorkersCase


@tagged("post_install", "-at_install")
class TestConcurrentCollection(CommittedWorkersCase):
    INVOICES = 12

    def _make_due_invoices(self, tag, state):
        """Posted invoices of running schedules charged with a demo token ending in
        ``state``, committed for every worker to see."""
        with self.registry.cursor() as cr:
            env = self._committed_env(cr)
            company = env.company
            provider = env["payment.provider"].search(
                [("code", "=", "demo"), ("company_id", "=", company.id)], limit=1
            )
            provider_state = provider.state
            provider.state = "test"
            provider.journal_id = env["account.journal"].search(
                [*env["account.journal"]._check_company_domain(company), ("type", "=", "bank")],
                limit=1,
            )
            partner = env["res.partner"].create(
                {"name": f"Collection {tag}", "street": "1 Lock Lane", "email": "c@example.com"}
            )
            token = env["payment.token"].create(
                {
                    "provider_id": provider.id,
                    "payment_method_id": provider.payment_method_ids[:1].id,
                    "partner_id": partner.id,
                    "payment_details": "4242",
                    "provider_ref": f"demo {tag}",
                    "demo_simulated_state": state,
                }
            )
            today = fields.Date.context_today(env["crm.billing.schedule"])
            schedules = env["crm.billing.schedule"].create(
                [
                    {
                        "partner_id": partner.id,
                        "rule_type": "monthly",
                        "date_start": today,
                        "auto_post": True,
                        "payment_token_id": token.id,
                        "line_ids": [Command.create({"name": f"Seat {i}", "price_unit": 10 + i})],
                    }
                    for i in range(self.INVOICES)
                ]
            )
            schedules.action_start()
            schedules._lock_for_invoicing()
            invoices = schedules._generate_invoices(today)
            ids = invoices.ids
            schedule_ids = schedules.ids
            provider_id = provider.id
        self._add_committed_cleanup(self._cleanup, schedule_ids, ids, provider_id, provider_state)
        self.assertEqual(len(ids), self.INVOICES)
        return ids

    @staticmethod
    def _cleanup(env, schedule_ids, invoice_ids, provider_id, provider_state):
        """Cancel what the test made (its invoices were posted and paid: the books
        keep them) and give the demo provider its state back."""
        invoices = env["account.move"].browse(invoice_ids)
        payments = invoices.transaction_ids.payment_id
        payments.action_draft()
        payments.action_cancel()
        invoices.billing_charge_ids.filtered(lambda c: c.state == "pending").write(
            {"state": "cancelled"}
        )
        invoices.button_draft()
        invoices.button_cancel()
        schedules = env["crm.billing.schedule"].browse(schedule_ids)
        schedules.write({"state": "cancelled", "payment_token_id": False})
        env["payment.provider"].browse(provider_id).state = provider_state

    def _charges(self, invoice_ids):
        with self.registry.cursor() as cr:
            cr.execute(
                "SELECT invoice_id, attempt, state, transaction_id FROM crm_billing_charge"
                " WHERE invoice_id = ANY(%s) ORDER BY invoice_id, attempt",
                [invoice_ids],
            )
            charges = cr.fetchall()
            cr.execute(
                "SELECT invoice_id, count(*) FROM account_invoice_transaction_rel"
                " WHERE invoice_id = ANY(%s) GROUP BY invoice_id",
                [invoice_ids],
            )
            transactions = dict(cr.fetchall())
            cr.execute(
                "SELECT id, payment_state FROM account_move WHERE id = ANY(%s)", [invoice_ids]
            )
            payment_states = dict(cr.fetchall())
        return charges, transactions, payment_states

    def _worker(self, env):
        env["crm.billing.charge"]._cron_collect_payments(batch_size=3)

    def test_two_workers_make_one_transaction_per_attempt(self):
        ids = self._make_due_invoices("two workers", "error")
        self._run_in_threads(self._worker, self._worker)
        charges, transactions, _states = self._charges(ids)
        self.assertEqual([(c[0], c[1], c[2]) for c in charges], [(i, 1, "failed") for i in ids])
        self.assertEqual(transactions, dict.fromkeys(ids, 1), "one transaction per invoice attempt")
        self.assertEqual(len({c[3] for c in charges}), self.INVOICES)
        # both workers again, the same day: nothing is due before the retry
        self._run_in_threads(self._worker, self._worker)
        self.assertEqual(self._charges(ids)[1], dict.fromkeys(ids, 1))

    def test_two_workers_pay_each_invoice_once(self):
        ids = self._make_due_invoices("two workers paid", "done")
        self._run_in_threads(self._worker, self._worker, self._worker)
        charges, transactions, states = self._charges(ids)
        self.assertEqual([(c[0], c[1], c[2]) for c in charges], [(i, 1, "done") for i in ids])
        self.assertEqual(transactions, dict.fromkeys(ids, 1))
        self.assertTrue(all(state in ("paid", "in_payment") for state in states.values()))

    def test_crash_after_the_charge_before_the_commit_does_not_charge_again(self):
        ids = self._make_due_invoices("crash", "done")
        with self.registry.cursor() as cr:
            env = self._committed_env(cr)
            Charge = env["crm.billing.charge"]
            today = fields.Date.context_today(Charge)
            invoices = Charge._claim_due_invoices(today, 1000).filtered(lambda m: m.id in ids)
            self.assertEqual(sorted(invoices.ids), sorted(ids))
            charges = Charge._create_charges(invoices)
            cr.commit()  # the run commits its pending charges before calling the provider
            charges._send()
            self.assertEqual(set(charges.mapped("state")), {"done"}, "the provider said yes")
            cr.rollback()  # ... and the worker died before committing the answer
        charges, transactions, states = self._charges(ids)
        self.assertEqual({c[2] for c in charges}, {"pending"})
        self.assertEqual(set(states.values()), {"not_paid"})
        # the next runs find pending charges: they wait for the transactions to settle
        for _run in range(2):
            with self.registry.cursor() as cr:
                self._committed_env(cr)["crm.billing.charge"]._cron_collect_payments()
            charges, transactions, states = self._charges(ids)
            self.assertEqual({c[2] for c in charges}, {"pending"})
            self.assertEqual(transactions, dict.fromkeys(ids, 1), "never charged a second time")
        # the provider's notification settles them; the next run pays the invoices
        with self.registry.cursor() as cr:
            env = self._committed_env(cr)
            for tx in env["account.move"].browse(ids).transaction_ids:
                tx.action_demo_set_done()
        with self.registry.cursor() as cr:
            self._committed_env(cr)["crm.billing.charge"]._cron_collect_payments()
        charges, transactions, states = self._charges(ids)
        self.assertEqual({c[2] for c in charges}, {"done"})
        self.assertEqual(transactions, dict.fromkeys(ids, 1))
        self.assertTrue(all(state in ("paid", "in_payment") for state in states.values()))
