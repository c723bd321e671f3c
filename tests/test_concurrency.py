# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Several workers invoicing at once, for real (see CommittedWorkersCase): the
tests commit on their own cursors and delete what they made when they end."""

from dateutil.relativedelta import relativedelta

from odoo import Command, fields
from odoo.tests import tagged

from .common import CommittedWorkersCase


@tagged("post_install", "-at_install")
class TestConcurrentRuns(CommittedWorkersCase):
    SCHEDULES = 24

    def _make_due_schedules(self, tag):
        """Running schedules, each with 3 periods due, committed for all to see."""
        with self.registry.cursor() as cr:
            env = self._committed_env(cr)
            partner = env["res.partner"].create(
                {"name": f"Concurrency {tag}", "street": "1 Lock Lane"}
            )
            today = fields.Date.context_today(env["crm.billing.schedule"])
            schedules = env["crm.billing.schedule"].create(
                [
                    {
                        "partner_id": partner.id,
                        "rule_type": "monthly",
                        "date_start": today - relativedelta(months=2),
                        "auto_post": False,
                        "line_ids": [Command.create({"name": f"Seat {i}", "price_unit": 10 + i})],
                    }
                    for i in range(self.SCHEDULES)
                ]
            )
            schedules.action_start()
            ids = schedules.ids
            partner_id = partner.id
        self._add_committed_cleanup(self._delete, ids, partner_id)
        return ids

    @staticmethod
    def _delete(env, ids, partner_id):
        """Remove the schedules, their periods and (draft) invoices, and the customer."""
        schedules = env["crm.billing.schedule"].browse(ids).exists()
        schedules.invoice_ids.with_context(force_delete=True).unlink()
        schedules.period_ids.unlink()
        schedules.write({"state": "cancelled"})
        schedules.unlink()
        env["res.partner"].browse(partner_id).unlink()

    def _periods_by_schedule(self, ids):
        with self.registry.cursor() as cr:
            cr.execute(
                "SELECT schedule_id, date_start, count(*), count(DISTINCT invoice_id)"
                " FROM crm_billing_period WHERE schedule_id = ANY(%s) GROUP BY 1, 2",
                [ids],
            )
            rows = cr.fetchall()
            cr.execute(
                "SELECT count(*) FROM account_move WHERE billing_schedule_id = ANY(%s)", [ids]
            )
            invoices = cr.fetchone()[0]
        return rows, invoices

    def _assert_each_period_once(self, ids):
        rows, invoices = self._periods_by_schedule(ids)
        self.assertEqual(len(rows), self.SCHEDULES * 3, "three periods invoiced per schedule")
        self.assertTrue(all(count == 1 and distinct == 1 for _s, _d, count, distinct in rows))
        self.assertEqual(invoices, self.SCHEDULES * 3, "no invoice without its period, none twice")

    def test_two_workers_share_a_run(self):
        ids = self._make_due_schedules("two workers")

        def worker(env):
            env["crm.billing.schedule"]._cron_generate_invoices(batch_size=4)

        self._run_in_threads(worker, worker)
        self._assert_each_period_once(ids)

    def test_user_clicks_during_a_run(self):
        ids = self._make_due_schedules("click")

        def worker(env):
            env["crm.billing.schedule"]._cron_generate_invoices(batch_size=3)

        def user(env):
            env["crm.billing.schedule"].browse(ids[-6:]).action_generate_invoices()
            env.cr.commit()

        self._run_in_threads(worker, user, worker)
        self._assert_each_period_once(ids)

    def test_crash_half_way_then_rerun(self):
        ids = self._make_due_schedules("crash")
        with self.registry.cursor() as cr:
            env = self._committed_env(cr)
            half = env["crm.billing.schedule"].browse(ids[: self.SCHEDULES // 2])
            self.assertTrue(half._generate_invoices())
            cr.rollback()  # the worker died before committing
        rows, invoices = self._periods_by_schedule(ids)
        self.assertEqual((rows, invoices), ([], 0), "nothing of a crashed run is left")
        with self.registry.cursor() as cr:
            self._committed_env(cr)["crm.billing.schedule"]._cron_generate_invoices()
        self._assert_each_period_once(ids)
        with self.registry.cursor() as cr:
            env = self._committed_env(cr)
            env["crm.billing.schedule"]._cron_generate_invoices()
        self._assert_each_period_once(ids)
