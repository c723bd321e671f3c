# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import date, timedelta
from unittest.mock import patch

from freezegun import freeze_time
from psycopg2 import IntegrityError

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, new_test_user, tagged
from odoo.tools import SQL, mute_logger

from ..models import billing_period_math as period_math
from .common import BillingCommon


@tagged("post_install", "-at_install")
class TestRecurringInvoicing(BillingCommon):
    def _invoices(self, schedule):
        return schedule.invoice_ids.sorted("invoice_date")

    def test_prepaid_month_ends_and_catch_up(self):
        schedule = self._create_schedule(date_start=date(2027, 1, 31))
        schedule.action_start()
        with freeze_time("2027-04-15"):
            invoices = schedule._generate_invoices()
        self.assertEqual(
            invoices.sorted("invoice_date").mapped("invoice_date"),
            [date(2027, 1, 31), date(2027, 2, 28), date(2027, 3, 31)],
            "one invoice per missed period, each dated on its first day",
        )
        self.assertEqual(set(invoices.mapped("state")), {"posted"})
        first = self._invoices(schedule)[0]
        self.assertEqual(first.amount_untaxed, 100.0)
        self.assertEqual(first.amount_tax, 15.0)  # tax_sale_a is 15%
        self.assertEqual(first.amount_total, 115.0)
        self.assertEqual(first.billing_schedule_id, schedule)
        self.assertEqual(first.billing_period_id.date_start, date(2027, 1, 31))
        self.assertEqual(first.billing_period_id.date_end, date(2027, 2, 27))
        self.assertIn("Period: 01/31/2027 to 02/27/2027", first.invoice_line_ids.name)
        self.assertEqual(schedule.next_invoice_date, date(2027, 4, 30))
        self.assertEqual(schedule.invoice_count, 3)
        # the same run again, the same day: nothing more
        with freeze_time("2027-04-15"):
            self.assertFalse(schedule._generate_invoices())
        self.assertEqual(len(schedule.period_ids), 3)
        with freeze_time("2027-04-30"):
            invoices = schedule._generate_invoices()
        self.assertEqual(invoices.invoice_date, date(2027, 4, 30))

    def test_postpaid_invoiced_on_last_day(self):
        schedule = self._create_schedule(date_start=date(2028, 1, 1), invoicing_mode="postpaid")
        schedule.action_start()
        self.assertEqual(schedule.next_invoice_date, date(2028, 1, 31))
        with freeze_time("2028-03-15"):
            invoices = schedule._generate_invoices()
        self.assertEqual(
            invoices.sorted("invoice_date").mapped("invoice_date"),
            [date(2028, 1, 31), date(2028, 2, 29)],
        )
        self.assertEqual(schedule.next_invoice_date, date(2028, 3, 31))

    def test_proration_to_the_cent(self):
        schedule = self._create_schedule(
            date_start=date(2027, 1, 15),
            date_end=date(2027, 3, 10),
            align_calendar=True,
            prorate=True,
        )
        schedule.action_start()
        with freeze_time("2027-03-31"):
            invoices = schedule._generate_invoices().sorted("invoice_date")
        # 17 of 31 days, a full February, 10 of 31 days, of 100.00
        self.assertEqual(invoices.mapped("amount_untaxed"), [54.84, 100.0, 32.26])
        self.assertEqual(
            invoices.mapped("invoice_date"), [date(2027, 1, 15), date(2027, 2, 1), date(2027, 3, 1)]
        )
        self.assertIn("prorated: 17 of 31 days", invoices[0].invoice_line_ids.name)
        self.assertEqual(schedule.state, "done")
        self.assertFalse(schedule.next_invoice_date)

    def test_quarterly_yearly_weekly_daily(self):
        cases = {
            ("quarterly", 1): [date(2027, 1, 10), date(2027, 4, 10), date(2027, 7, 10)],
            ("yearly", 1): [date(2027, 1, 10)],
            ("weekly", 2): [date(2027, 1, 10), date(2027, 1, 24), date(2027, 2, 7)],
            ("daily", 30): [date(2027, 1, 10), date(2027, 2, 9), date(2027, 3, 11)],
        }
        schedules = self.Schedule
        for (rule, interval), _dates in cases.items():
            schedules |= self._create_schedule(
                date_start=date(2027, 1, 10), rule_type=rule, interval=interval
            )
        schedules.action_start()
        with freeze_time("2027-07-10"):
            schedules._generate_invoices()
        for schedule, expected in zip(schedules, cases.values(), strict=True):
            dates = self._invoices(schedule).mapped("invoice_date")
            self.assertEqual(dates[: len(expected)], expected, schedule.rule_type)
        self.assertEqual(len(schedules[0].invoice_ids), 3)
        self.assertEqual(len(schedules[2].invoice_ids), 13)  # every other week, 10 Jan to 4 Jul

    def test_pause_resume_catches_up(self):
        schedule = self._create_schedule(date_start=date(2027, 1, 1))
        schedule.action_start()
        with freeze_time("2027-01-05"):
            schedule._generate_invoices()
            schedule.action_pause()
        with freeze_time("2027-03-05"):
            self.assertFalse(schedule._generate_invoices(), "a paused schedule is not invoiced")
            with self.assertRaises(UserError) as error:
                schedule.action_generate_invoices()
            self.assertIn("is not running: start or resume it first", str(error.exception))
            schedule.action_resume()
            invoices = schedule._generate_invoices()
        self.assertEqual(
            invoices.sorted("invoice_date").mapped("invoice_date"),
            [date(2027, 2, 1), date(2027, 3, 1)],
        )
        self.assertEqual(len(schedule.period_ids), 3)

    def test_invoice_now_button(self):
        schedule = self._create_schedule(date_start=date(2027, 5, 1))
        schedule.action_start()
        with freeze_time("2027-05-02"):
            action = schedule.action_generate_invoices()
            self.assertEqual(action["res_id"], schedule.invoice_ids.id)
            again = schedule.action_generate_invoices()
        self.assertEqual(again["tag"], "display_notification")
        self.assertEqual(len(schedule.invoice_ids), 1)

    def test_database_refuses_a_period_twice(self):
        schedule = self._create_schedule(date_start=date(2027, 1, 1))
        schedule.action_start()
        with freeze_time("2027-01-02"):
            invoice = schedule._generate_invoices()
        with mute_logger("odoo.sql_db"), self.assertRaises(IntegrityError), self.cr.savepoint():
            self.env["crm.billing.period"].create(
                {
                    "schedule_id": schedule.id,
                    "date_start": date(2027, 1, 1),
                    "date_end": date(2027, 1, 31),
                    "invoice_date": date(2027, 1, 1),
                    "invoice_id": invoice.id,
                }
            )

    def test_failing_schedule_does_not_stop_the_others(self):
        good = self._create_schedule(date_start=date(2027, 1, 1))
        bad = self._create_schedule(date_start=date(2027, 1, 1))
        also_good = self._create_schedule(date_start=date(2027, 1, 1))
        (good | bad | also_good).action_start()
        bad.line_ids.unlink()  # someone emptied it while it runs
        with (
            freeze_time("2027-02-10"),
            mute_logger("odoo.addons.crm_billing.models.crm_billing_schedule_engine"),
        ):
            invoices = (good | bad | also_good)._generate_invoices()
        self.assertEqual(len(invoices), 4)
        self.assertEqual(len(good.invoice_ids), 2)
        self.assertEqual(len(also_good.invoice_ids), 2)
        self.assertFalse(bad.invoice_ids)
        self.assertFalse(bad.period_ids, "the failing schedule is rolled back whole")
        self.assertIn("has no lines", bad.message_ids[0].body)
        self.assertEqual(bad.state, "running")

    def test_a_bug_is_not_blamed_on_a_schedule(self):
        """Only what a schedule's data causes becomes a note on its chatter; a
        programming error (here injected into one schedule's invoice values) reaches
        the caller, and nothing of the run is kept."""
        good = self._create_schedule(date_start=date(2027, 1, 1))
        buggy = self._create_schedule(date_start=date(2027, 1, 1))
        (good | buggy).action_start()
        Schedule = type(self.Schedule)
        prepare = Schedule._prepare_invoice_vals

        def prepare_with_a_bug(schedule, period):
            if schedule == buggy:
                return {"partner_id": None}["missing key"]
            return prepare(schedule, period)

        with (
            freeze_time("2027-02-10"),
            patch.object(Schedule, "_prepare_invoice_vals", prepare_with_a_bug),
            self.assertRaisesRegex(KeyError, "missing key"),
        ):
            (good | buggy)._generate_invoices()
        self.assertFalse(good.invoice_ids)
        self.assertFalse(buggy.invoice_ids)
        self.assertNotIn("Invoicing failed", "".join(buggy.message_ids.mapped("body")))

    def test_default_journal_looked_up_once_per_batch(self):
        """Schedules without a journal of their own invoice through the one Odoo
        picks for their company and currency, looked up once for the whole batch."""
        schedules = self._create_schedule(date_start=date(2027, 1, 1))
        schedules |= self._create_schedule(date_start=date(2027, 1, 1))
        schedules |= self._create_schedule(date_start=date(2027, 1, 1))
        schedules.action_start()
        Schedule = type(self.Schedule)
        lookup = Schedule._default_journal
        calls = []

        def counted(model, company, currency):
            calls.append((company, currency))
            return lookup(model, company, currency)

        with freeze_time("2027-01-05"), patch.object(Schedule, "_default_journal", counted):
            invoices = schedules._generate_invoices()
        self.assertEqual(len(invoices), 3)
        self.assertEqual(len(calls), 1)
        self.assertEqual(invoices.journal_id, self.company_data["default_journal_sale"])

    def test_creation_message_as_odoo_logs_it(self):
        """The run logs its invoices' creation messages in one batch; each reads as
        the one Odoo's own create logs: the same body, subtype, type, author and
        visibility, nobody notified. An invoice that someone follows for that
        subtype gets Odoo's own, which notifies them."""
        mail = {"tracking_disable": False, "mail_create_nolog": False, "mail_notrack": False}
        schedules = self._create_schedule(date_start=date(2027, 1, 1), auto_post=False)
        schedules |= self._create_schedule(date_start=date(2027, 1, 1), auto_post=False)
        schedules.action_start()
        Move = type(self.env["account.move"])
        post = Move.message_post
        posted = []

        def counted_post(moves, **kwargs):
            posted.append(moves.id)
            return post(moves, **kwargs)

        with freeze_time("2027-01-05"), patch.object(Move, "message_post", counted_post):
            invoices = schedules.with_context(**mail)._generate_invoices()
        self.assertEqual(posted, [], "logged in one batch, not one message_post each")
        with freeze_time("2027-01-05"):
            by_odoo = (
                self.env["account.move"]
                .with_context(**mail)
                .create(
                    {
                        "move_type": "out_invoice",
                        "partner_id": self.customer.id,
                        "invoice_line_ids": [Command.create({"name": "By hand", "price_unit": 9})],
                    }
                )
            )
        self.assertEqual(len(invoices), 2)
        created = self.env.ref("account.mt_invoice_created")

        def creation(move):
            message = move.message_ids.filtered(lambda m: m.subtype_id == created)
            self.assertEqual(len(message), 1)
            return (
                str(message.body),
                message.message_type,
                message.author_id,
                message.is_internal,
                message.subtype_id.internal,
                message.notified_partner_ids,
                message.tracking_value_ids,
            )

        for invoice in invoices:
            self.assertEqual(creation(invoice), creation(by_odoo))
            self.assertIn("Invoice Created", creation(invoice)[0])
            self.assertEqual(len(invoice.message_ids), 1)
        # with a follower who asked to hear of new invoices: Odoo's message, notified
        watcher = self.env["res.partner"].create({"name": "Watcher", "email": "w@example.com"})
        subscribe = Move._message_auto_subscribe

        def subscribed(moves, *args, **kwargs):
            result = subscribe(moves, *args, **kwargs)
            moves.message_subscribe(watcher.ids, subtype_ids=created.ids)
            return result

        with (
            freeze_time("2027-02-05"),
            patch.object(Move, "_message_auto_subscribe", subscribed),
            patch.object(Move, "message_post", counted_post),
        ):
            followed = schedules[:1].with_context(**mail)._generate_invoices()
        self.assertEqual(posted, followed.ids)
        message = followed.message_ids.filtered(lambda m: m.subtype_id == created)
        self.assertEqual(len(message), 1)
        self.assertIn(watcher, message.notified_partner_ids)
        self.assertEqual(str(message.body), creation(by_odoo)[0])
        # asked for no creation message, as Odoo's test cases ask: none
        with freeze_time("2027-02-05"):
            quiet = schedules[1:].with_context(mail_create_nolog=True)._generate_invoices()
        self.assertFalse(quiet.message_ids.filtered(lambda m: m.subtype_id == created))

    def test_ten_year_old_daily_schedule_costs_as_much_as_a_new_one(self):
        """Finding the due periods of a schedule takes as many queries whatever its
        age: a daily schedule started ten years ago (3,650 invoiced periods) is
        invoiced with exactly the queries of one started yesterday."""
        today = date(2027, 3, 1)
        warm = self._create_schedule(rule_type="daily", date_start=today - timedelta(days=1))
        new = self._create_schedule(rule_type="daily", date_start=today - timedelta(days=1))
        old = self._create_schedule(rule_type="daily", date_start=date(2017, 3, 1))
        (warm | new | old).action_start()
        # the old one was invoiced every day up to two days ago
        self.env.flush_all()
        self.env.cr.execute(
            """
            INSERT INTO crm_billing_period
                (schedule_id, company_id, partner_id, date_start, date_end, invoice_date, factor)
            SELECT %(id)s, %(company)s, %(partner)s, day, day, day, 1
              FROM generate_series(%(first)s::date, %(last)s::date, '1 day') AS day
            """,
            {
                "id": old.id,
                "company": old.company_id.id,
                "partner": old.partner_id.id,
                "first": date(2017, 3, 1),
                "last": today - timedelta(days=2),
            },
        )
        self.env.invalidate_all()
        old.invalidate_recordset(["next_invoice_date"])
        self.env.add_to_compute(old._fields["next_invoice_date"], old)
        self.assertEqual(old.next_invoice_date, today - timedelta(days=1))
        queries = {}
        with freeze_time(today):
            warm._generate_invoices(today)
            for name, schedule in (("new", new), ("old", old)):
                self.env.flush_all()
                self.env.invalidate_all()
                before = self.env.cr.sql_log_count
                invoices = schedule._generate_invoices(today)
                self.env.flush_all()
                queries[name] = self.env.cr.sql_log_count - before
                self.assertEqual(
                    invoices.mapped("invoice_date"), [today - timedelta(days=1), today], name
                )
        self.assertEqual(len(old.period_ids), (today - date(2017, 3, 1)).days + 1)
        self.assertEqual(queries["old"], queries["new"], queries)
        self.assertEqual(old.next_invoice_date, today + timedelta(days=1))

    def test_auto_send_queues_the_invoice_with_its_pdf(self):
        schedule = self._create_schedule(date_start=date(2027, 1, 1), auto_send=True)
        schedule.action_start()
        with freeze_time("2027-01-02"):
            invoice = schedule._generate_invoices()
        self.assertTrue(
            invoice.sending_data, "handed to Odoo's sending queue, not sent inside the run"
        )
        self.env["account.move.send"]._generate_and_send_invoices(invoice, from_cron=True)
        self.assertTrue(invoice.is_move_sent)
        message = invoice.message_ids.filtered(
            lambda m: m.message_type == "comment" and m.attachment_ids
        )
        self.assertEqual(len(message), 1)
        self.assertIn(self.customer, message.partner_ids)
        self.assertEqual(message.attachment_ids.mimetype, "application/pdf")
        self.assertEqual(message.attachment_ids.name, f"{invoice.name.replace('/', '_')}.pdf")
        self.assertFalse(invoice.sending_data)

    def test_monthly_factor_in_sql_is_the_same(self):
        """The SQL reports bring amounts to a month with the same factors as Python."""
        for rule in period_math.RULE_TYPES:
            for interval in (1, 2, 3, 12):
                factor = period_math.monthly_factor_sql(SQL("%s", rule), SQL("%s", interval))
                self.env.cr.execute(SQL("SELECT %s", factor))
                self.assertAlmostEqual(
                    float(self.env.cr.fetchone()[0]),
                    float(period_math.monthly_factor(rule, interval)),
                    places=12,
                    msg=(rule, interval),
                )

    def test_mrr(self):
        monthly = self._create_schedule(date_start=date(2027, 1, 1))
        quarterly = self._create_schedule(
            date_start=date(2027, 1, 1),
            rule_type="quarterly",
            lines=[{"name": "Hosting", "quantity": 2, "price_unit": 450.0, "discount": 10}],
        )
        yearly_draft = self._create_schedule(date_start=date(2027, 1, 1), rule_type="yearly")
        (monthly | quarterly).action_start()
        self.assertEqual(monthly.mrr, 100.0)
        self.assertEqual(quarterly.amount_untaxed, 810.0)
        self.assertEqual(quarterly.mrr, 270.0)
        self.assertEqual(yearly_draft.mrr, 0.0, "only running schedules recur")
        self.assertEqual(self.customer.billing_mrr, 370.0)
        self.assertEqual(self.customer.billing_schedule_count, 3)

    def test_mrr_in_company_currency(self):
        other = self.setup_other_currency("EUR", rates=[("2000-01-01", 2.0)])
        schedule = self._create_schedule(date_start=date(2027, 1, 1), currency_id=other.id)
        schedule.action_start()
        self.assertEqual(schedule.amount_untaxed, 100.0)
        self.assertEqual(schedule.mrr, 50.0)

    def test_form_shows_next_invoice_date(self):
        with Form(self.Schedule) as form:
            form.partner_id = self.customer
            form.date_start = date(2027, 2, 14)
            form.rule_type = "quarterly"
            with form.line_ids.new() as line:
                line.product_id = self.product_sub
            self.assertEqual(form.next_invoice_date, date(2027, 2, 14))
        schedule = form.save()
        self.assertEqual(schedule.line_ids.price_unit, 100.0)
        self.assertEqual(schedule.line_ids.tax_ids, self.tax_sale_a)
        self.assertTrue(schedule.name.startswith("BS/"))


@tagged("post_install", "-at_install")
class TestBadInput(BillingCommon):
    def test_interval_below_one(self):
        with self.assertRaises(ValidationError) as error:
            self._create_schedule(date_start=date(2027, 1, 1), interval=0)
        self.assertIn("invoices recur every 1 period or more", str(error.exception))
        schedule = self._create_schedule(date_start=date(2027, 1, 1))
        with self.assertRaises(ValidationError) as error:
            schedule.interval = -1
        self.assertIn("invoices recur every 1 period or more", str(error.exception))
        self.assertEqual(schedule.interval, 1)

    def test_end_before_start(self):
        with self.assertRaises(ValidationError) as error:
            self._create_schedule(date_start=date(2027, 1, 10), date_end=date(2027, 1, 9))
        self.assertIn("before it starts", str(error.exception))

    def test_no_lines(self):
        schedule = self._create_schedule(date_start=date(2027, 1, 1), lines=[])
        with self.assertRaises(ValidationError) as error:
            schedule.action_start()
        self.assertIn("has no lines", str(error.exception))
        self.assertEqual(schedule.state, "draft")

    def test_journal_of_another_company(self):
        other = self.setup_other_company()
        with self.assertRaises(UserError) as error:
            self._create_schedule(
                date_start=date(2027, 1, 1), journal_id=other["default_journal_sale"].id
            )
        # the schedule's own check, or the ORM's company check before it
        self.assertRegex(
            str(error.exception), "not to the schedule's company|[Ii]ncompatible compan"
        )

    def test_journal_in_another_currency(self):
        eur = self.setup_other_currency("EUR")
        journal = self.company_data["default_journal_sale"].copy(
            {"currency_id": eur.id, "code": "SEUR"}
        )
        with self.assertRaises(ValidationError) as error:
            self._create_schedule(date_start=date(2027, 1, 1), journal_id=journal.id)
        self.assertIn("invoices in EUR", str(error.exception))
        self.assertFalse(self.Schedule.search([("journal_id", "=", journal.id)]))

    def test_cancelled_cannot_start(self):
        schedule = self._create_schedule(date_start=date(2027, 1, 1))
        schedule.action_cancel()
        with self.assertRaises(UserError) as error:
            schedule.action_start()
        self.assertIn("cancelled", str(error.exception))
        self.assertEqual(schedule.state, "cancelled")

    def test_invoiced_recurrence_is_frozen(self):
        schedule = self._create_schedule(date_start=date(2027, 1, 1))
        schedule.action_start()
        with freeze_time("2027-01-02"):
            schedule._generate_invoices()
        with self.assertRaises(UserError) as error:
            schedule.rule_type = "yearly"
        self.assertIn("can no longer change", str(error.exception))
        self.assertEqual(schedule.rule_type, "monthly")
        schedule.date_end = date(2027, 6, 30)  # ending it is fine
        with self.assertRaises(UserError) as error:
            schedule.unlink()
        self.assertIn("cancel it instead of deleting it", str(error.exception))


@tagged("post_install", "-at_install")
class TestAccess(BillingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        company = cls.env.company
        cls.rep = new_test_user(
            cls.env,
            login="billing_rep",
            groups="sales_team.group_sale_salesman",
            company_id=company.id,
        )
        cls.manager = new_test_user(
            cls.env,
            login="billing_mgr",
            groups="sales_team.group_sale_salesman,crm_billing.group_billing_manager,account.group_account_invoice",
            company_id=company.id,
        )
        cls.portal = new_test_user(cls.env, login="billing_portal", groups="base.group_portal")
        cls.schedule = cls._create_schedule(date_start=date(2027, 1, 1))

    def test_groups_are_implied(self):
        self.assertTrue(self.rep.has_group("crm_billing.group_billing_user"))
        self.assertFalse(self.rep.has_group("crm_billing.group_billing_manager"))
        accountant = new_test_user(
            self.env, login="acc_mgr", groups="account.group_account_manager"
        )
        self.assertTrue(accountant.has_group("crm_billing.group_billing_manager"))

    def test_sales_rep(self):
        # his own schedule: a rep with own documents only sees no other's
        self.schedule.user_id = self.rep
        Schedule = self.Schedule.with_user(self.rep)
        self.assertEqual(Schedule.search([("id", "=", self.schedule.id)]), self.schedule)
        mine = Schedule.create(
            {
                "partner_id": self.customer.id,
                "line_ids": [Command.create({"name": "Support", "price_unit": 10})],
            }
        )
        mine.date_end = date(2030, 1, 1)
        with self.assertRaises(AccessError):
            mine.unlink()
        with self.assertRaises(AccessError):
            self.env["crm.billing.period"].with_user(self.rep).create(
                {
                    "schedule_id": mine.id,
                    "date_start": date(2027, 1, 1),
                    "date_end": date(2027, 1, 31),
                    "invoice_date": date(2027, 1, 1),
                }
            )

    def test_manager_deletes_drafts(self):
        draft = self._create_schedule(date_start=date(2027, 1, 1))
        draft.with_user(self.manager).unlink()
        self.assertFalse(draft.exists())

    def test_portal_sees_only_its_own(self):
        self.assertFalse(self.Schedule.with_user(self.portal).search([]))
        self.schedule.partner_id = self.portal.partner_id
        # a draft is the seller's work in progress: the customer sees it once started
        self.assertFalse(self.Schedule.with_user(self.portal).search([]))
        self.schedule.action_start()
        self.assertEqual(self.Schedule.with_user(self.portal).search([]), self.schedule)
        with self.assertRaises(AccessError):
            self.schedule.with_user(self.portal).write({"date_end": date(2030, 1, 1)})

    def test_other_company_is_invisible(self):
        other = self.setup_other_company()["company"]
        outsider = new_test_user(
            self.env,
            login="other_rep",
            groups="sales_team.group_sale_salesman",
            company_id=other.id,
            company_ids=[Command.set(other.ids)],
        )
        self.assertFalse(self.Schedule.with_user(outsider).search([("id", "=", self.schedule.id)]))
