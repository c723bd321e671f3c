# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import date

from freezegun import freeze_time
from psycopg2 import errors as pg_errors

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from .common import BillingCommon, CommittedWorkersCase


class UsageCommon(BillingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Usage = cls.env["crm.billing.usage"]
        cls.uom_gb = cls.env["uom.uom"].create(
            {
                "name": "GB",
                "relative_factor": 1.0,
                "relative_uom_id": cls.env.ref("uom.product_uom_unit").id,
            }
        )
        cls.product_data = cls._create_product(
            name="Data transfer", lst_price=0.10, uom_id=cls.uom_gb.id, taxes_id=cls.tax_sale_a
        )

    @classmethod
    def _metered_schedule(cls, pricing="unit", tiers=(), included=0.0, price_unit=0.10, **vals):
        line = {
            "product_id": cls.product_data.id,
            "name": "Data transfer",
            "quantity_source": "usage",
            "pricing": pricing,
            "price_unit": price_unit,
            "included_quantity": included,
            "tax_ids": [Command.set(cls.tax_sale_a.ids)],
            "tier_ids": [
                Command.create({"up_to": up_to, "price_unit": price}) for up_to, price in tiers
            ],
        }
        schedule = cls._create_schedule(
            lines=[line, *vals.pop("extra_lines", [])],
            date_start=vals.pop("date_start", date(2027, 3, 1)),
            invoicing_mode="postpaid",
            **vals,
        )
        schedule.action_start()
        return schedule

    def _usage(self, schedule, day, quantity, reference):
        return self.Usage.create(
            {
                "schedule_id": schedule.id,
                "product_id": self.product_data.id,
                "date": day,
                "quantity": quantity,
                "reference": reference,
            }
        )


TIERS = [(1000.0, 0.10), (5000.0, 0.08), (0.0, 0.05)]


@tagged("post_install", "-at_install")
class TestUsageInvoicing(UsageCommon):
    def test_volume_tiers_to_the_cent(self):
        schedule = self._metered_schedule(pricing="volume", tiers=TIERS)
        self._usage(schedule, date(2027, 3, 3), 1000.0, "r1")
        self._usage(schedule, date(2027, 3, 31), 234.5, "r2")
        self._usage(schedule, date(2027, 4, 1), 7.0, "april")  # next period's
        with freeze_time("2027-03-31"):
            invoice = schedule._generate_invoices()
        self.assertEqual(len(invoice), 1)
        line = invoice.invoice_line_ids
        self.assertEqual(line.quantity, 1234.5)
        self.assertEqual(line.price_unit, 0.08)
        self.assertEqual(invoice.amount_untaxed, 98.76)  # 1,234.5 GB all at the 2nd tier
        self.assertIn("Usage 1 Mar – 31 Mar 2027: 1,234.50 GB", line.name)
        self.assertIn("volume tier 2 (up to 5,000 GB)", line.name)
        self.assertEqual(invoice.invoice_date, date(2027, 3, 31))
        usage = schedule.usage_ids
        self.assertEqual(set(usage.filtered("invoice_line_id").mapped("reference")), {"r1", "r2"})
        self.assertEqual(usage.filtered(lambda u: u.reference == "april").invoice_line_id.id, False)

    def test_graduated_tiers_to_the_cent(self):
        schedule = self._metered_schedule(pricing="graduated", tiers=TIERS)
        self._usage(schedule, date(2027, 3, 10), 6234.0, "r1")
        with freeze_time("2027-03-31"):
            invoice = schedule._generate_invoices()
        lines = invoice.invoice_line_ids.sorted("sequence")
        self.assertEqual(lines.mapped("quantity"), [1000.0, 4000.0, 1234.0])
        self.assertEqual(lines.mapped("price_unit"), [0.10, 0.08, 0.05])
        self.assertEqual(lines.mapped("price_subtotal"), [100.0, 320.0, 61.70])
        self.assertEqual(invoice.amount_untaxed, 481.70)
        self.assertIn("Usage 1 Mar – 31 Mar 2027: 6,234 GB", lines[0].name)
        self.assertIn("graduated tier 3 (5,000 to no limit)", lines[2].name)

    def test_allowance_prorated(self):
        schedule = self._metered_schedule(
            included=100.0, price_unit=0.25, date_start=date(2027, 4, 16), align_calendar=True
        )
        self._usage(schedule, date(2027, 4, 20), 450.0, "apr")
        self._usage(schedule, date(2027, 5, 20), 450.0, "may")
        with freeze_time("2027-05-31"):
            invoices = schedule._generate_invoices().sorted("invoice_date")
        self.assertEqual(invoices.mapped("invoice_line_ids.quantity"), [400.0, 350.0])
        # 16-30 April is half a month: half the allowance
        self.assertEqual(invoices.mapped("amount_untaxed"), [100.0, 87.5])
        self.assertIn("50 GB included (prorated: 15 of 30 days)", invoices[0].invoice_line_ids.name)
        self.assertIn("100 GB included", invoices[1].invoice_line_ids.name)

    def test_late_usage_goes_on_the_next_invoice(self):
        schedule = self._metered_schedule(pricing="graduated", tiers=TIERS)
        self._usage(schedule, date(2027, 3, 10), 900.0, "mar-1")
        with freeze_time("2027-03-31"):
            march = schedule._generate_invoices()
        self.assertEqual(march.amount_untaxed, 90.0)
        self.assertEqual(march.state, "posted")
        # sent late: dated in March, which is invoiced
        self._usage(schedule, date(2027, 3, 20), 300.0, "mar-2")
        self._usage(schedule, date(2027, 4, 2), 100.0, "apr-1")
        with freeze_time("2027-04-30"):
            april = schedule._generate_invoices()
        self.assertEqual(march.amount_untaxed, 90.0, "a posted invoice never changes")
        lines = april.invoice_line_ids.sorted("sequence")
        self.assertEqual(lines.mapped("quantity"), [100.0, 100.0, 200.0])
        # April: 100 GB in tier 1; late March: 300 GB on top of the 900 billed
        self.assertEqual(lines.mapped("price_unit"), [0.10, 0.10, 0.08])
        self.assertEqual(april.amount_untaxed, 36.0)
        self.assertIn("Late usage 20 Mar – 20 Mar 2027: 300 GB", lines[1].name)
        self.assertIn("(period 1 Mar – 31 Mar 2027 already invoiced)", lines[1].name)
        late = schedule.usage_ids.filtered(lambda u: u.reference == "mar-2")
        self.assertEqual(late.invoice_line_id.move_id, april)
        # nothing is ever billed twice
        with freeze_time("2027-05-31"):
            may = schedule._generate_invoices()
        self.assertFalse(may, "an empty period of a metered-only schedule makes no invoice")
        self.assertEqual(schedule.period_ids[-1].date_start, date(2027, 5, 1))

    def test_empty_periods(self):
        schedule = self._metered_schedule()
        with freeze_time("2027-03-31"):
            self.assertFalse(schedule._generate_invoices())
        self.assertEqual(len(schedule.period_ids), 1)
        self.assertFalse(schedule.period_ids.invoice_id)
        self.assertEqual(schedule.next_invoice_date, date(2027, 4, 30))
        schedule.skip_empty_periods = False
        with freeze_time("2027-04-30"):
            invoice = schedule._generate_invoices()
        self.assertEqual(invoice.amount_untaxed, 0.0)
        self.assertIn("Usage 1 Apr – 30 Apr 2027: 0 GB", invoice.invoice_line_ids.name)
        # a fixed line is always invoiced, beside a usage line of nothing
        with_fixed = self._metered_schedule(
            extra_lines=[
                {"product_id": self.product_sub.id, "name": "Base fee", "price_unit": 20.0}
            ]
        )
        with freeze_time("2027-03-31"):
            invoice = with_fixed._generate_invoices()
        self.assertEqual(invoice.amount_untaxed, 20.0)
        self.assertEqual(len(invoice.invoice_line_ids), 2)

    def test_invoiced_usage_is_frozen(self):
        schedule = self._metered_schedule()
        usage = self._usage(schedule, date(2027, 3, 2), 5.0, "a")
        pending = self._usage(schedule, date(2027, 4, 2), 5.0, "b")
        with freeze_time("2027-03-31"):
            schedule._generate_invoices()
        self.assertTrue(usage.invoice_line_id)
        with self.assertRaisesRegex(UserError, "Usage a is invoiced: it can no longer change"):
            usage.quantity = 50.0
        with self.assertRaisesRegex(UserError, "Usage a is invoiced: it cannot be deleted"):
            usage.unlink()
        with self.assertRaisesRegex(UserError, "Usage a is invoiced"):
            usage.invoice_line_id = False
        pending.quantity = 6.0
        pending.unlink()
        with self.assertRaisesRegex(UserError, "has usage records: it stays metered"):
            schedule.line_ids.quantity_source = "fixed"

    def test_usage_is_linked_once_by_the_database(self):
        schedule = self._metered_schedule()
        usage = self._usage(schedule, date(2027, 3, 2), 5.0, "once")
        with freeze_time("2027-03-31"):
            invoice = schedule._generate_invoices()
        line = invoice.invoice_line_ids
        self.assertEqual(usage.invoice_line_id, line)
        self.assertEqual(usage.invoice_id, invoice)
        self.assertEqual(line.billing_usage_ids, usage)
        other = invoice.line_ids.filtered(lambda aml: aml != line)[:1]  # its tax line
        # the code refuses a second link, naming the record
        with self.assertRaisesRegex(ValidationError, "Usage once is already invoiced"):
            with self.env.cr.savepoint():
                line._link_billing_usage([(line, usage.ids)])
        # nor is another schedule's usage billed here
        stranger = self._usage(self._metered_schedule(), date(2027, 3, 2), 1.0, "stranger")
        with self.assertRaisesRegex(ValidationError, "stranger can only be invoiced by its own"):
            with self.env.cr.savepoint():
                line._link_billing_usage([(line, stranger.ids)])
        self.assertFalse(stranger.invoice_line_id)
        # and the database itself refuses it, whatever the code does
        self.env.flush_all()
        with mute_logger("odoo.sql_db"), self.assertRaises(pg_errors.UniqueViolation):
            with self.env.cr.savepoint():
                self.env.cr.execute(
                    "INSERT INTO crm_billing_usage_link (usage_id, move_line_id) VALUES (%s, %s)",
                    [usage.id, other.id],
                )
        self.assertEqual(usage.invoice_line_id, line)
        # a free record given twice in one call is refused, and nothing is linked
        free = self._usage(schedule, date(2027, 4, 2), 1.0, "twice")
        with self.assertRaisesRegex(ValidationError, "Usage twice is already invoiced"):
            with self.env.cr.savepoint():
                line._link_billing_usage([(line, free.ids), (line, free.ids)])
        self.assertFalse(free.invoice_line_id)
        # refused with a free record beside it: the free one is not linked either
        with self.assertRaisesRegex(ValidationError, "Usage once is already invoiced"):
            with self.env.cr.savepoint():
                line._link_billing_usage([(line, (free | usage).ids)])
        self.assertFalse(free.invoice_line_id)
        line._link_billing_usage([(line, free.ids)])
        self.assertEqual(line.billing_usage_ids, usage | free)

    def test_deleting_a_draft_invoice_frees_its_usage(self):
        schedule = self._metered_schedule(auto_post=False)
        usage = self._usage(schedule, date(2027, 3, 2), 5.0, "m1")
        with freeze_time("2027-03-31"):
            march = schedule._generate_invoices()
        self.assertEqual(march.state, "draft")
        self.assertEqual(usage.invoice_id, march)
        march.unlink()
        self.assertFalse(usage.invoice_line_id)
        self.env.cr.execute(
            "SELECT count(*) FROM crm_billing_usage_link WHERE usage_id = %s", [usage.id]
        )
        self.assertEqual(self.env.cr.fetchone()[0], 0, "the link went with the line")
        self.assertIn(usage, self.Usage.search([("invoice_line_id", "=", False)]))
        usage.quantity = 6.0  # no longer frozen
        # the next run bills it again, as late usage of the invoiced March
        self._usage(schedule, date(2027, 4, 2), 1.0, "a1")
        with freeze_time("2027-04-30"):
            april = schedule._generate_invoices()
        self.assertEqual(usage.invoice_id, april)
        self.assertEqual(sorted(april.invoice_line_ids.mapped("quantity")), [1.0, 6.0])

    def test_the_database_frees_the_usage_of_deleted_lines(self):
        """Whatever deletes a draft invoice's line (the form, or SQL), its usage is
        free again; a line that no longer exists is not linked to."""
        schedule = self._metered_schedule(auto_post=False)
        usage = self._usage(schedule, date(2027, 3, 2), 5.0, "d1")
        kept = self._usage(schedule, date(2027, 3, 3), 1.0, "d2")
        with freeze_time("2027-03-31"):
            march = schedule._generate_invoices()
        line = march.invoice_line_ids
        self.assertEqual(line.billing_usage_ids, usage | kept)
        # the line taken off the draft invoice in the form
        march.write({"invoice_line_ids": [Command.delete(line.id)]})
        self.assertFalse((usage | kept).invoice_line_id)
        # linked again to a new line, then the line deleted by SQL, with another
        # invoice's line in the same statement
        march.write({"invoice_line_ids": [Command.create({"name": "Again", "price_unit": 1.0})]})
        again = march.invoice_line_ids
        again.billing_usage_ids = usage
        self.assertEqual(usage.invoice_line_id, again)
        other = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": schedule.partner_id.id,
                "invoice_line_ids": [Command.create({"name": "Other", "price_unit": 2.0})],
            }
        )
        self.env.flush_all()
        self.env.cr.execute(
            "DELETE FROM account_move_line WHERE id = ANY(%s)",
            [again.ids + other.invoice_line_ids.ids],
        )
        self.env.invalidate_all()
        self.assertFalse(usage.invoice_line_id)
        self.assertEqual(
            self.Usage.search([("invoice_line_id", "=", False), ("id", "in", (usage | kept).ids)]),
            usage | kept,
        )
        # a line that is gone cannot take usage
        with self.assertRaisesRegex(ValidationError, "no longer exists"):
            with self.env.cr.savepoint():
                again._link_billing_usage([(again, usage.ids)])
        self.assertFalse(usage.invoice_line_id)

    def test_invoiced_usage_is_searched_and_grouped(self):
        schedule = self._metered_schedule()
        billed = self._usage(schedule, date(2027, 3, 2), 5.0, "s1") | self._usage(
            schedule, date(2027, 3, 3), 2.0, "s2"
        )
        pending = self._usage(schedule, date(2027, 4, 2), 1.0, "s3")
        with freeze_time("2027-03-31"):
            invoice = schedule._generate_invoices()
        line = invoice.invoice_line_ids
        mine = [("schedule_id", "=", schedule.id)]
        Usage = self.Usage
        self.assertEqual(Usage.search([*mine, ("invoice_line_id", "=", False)]), pending)
        self.assertEqual(Usage.search([*mine, ("invoice_line_id", "!=", False)]), billed)
        self.assertEqual(Usage.search([*mine, ("invoice_line_id", "in", line.ids)]), billed)
        self.assertEqual(Usage.search([*mine, ("invoice_line_id", "not in", line.ids)]), pending)
        self.assertEqual(Usage.search([*mine, ("invoice_id", "=", invoice.id)]), billed)
        self.assertEqual(Usage.search([*mine, ("invoice_id.name", "=", invoice.name)]), billed)
        self.assertEqual(billed.filtered_domain([("invoice_line_id", "=", False)]), Usage)
        groups = Usage._read_group(mine, ["invoice_id"], ["quantity:sum"])
        self.assertEqual(
            sorted(groups, key=lambda group: group[1]),
            [(self.env["account.move"], 1.0), (invoice, 7.0)],
        )
        groups = Usage._read_group(mine, ["invoice_line_id"], ["__count"])
        self.assertEqual(dict(groups), {line: 2, self.env["account.move.line"]: 1})
        Line = self.env["account.move.line"]
        self.assertEqual(Line.search([("billing_usage_ids", "in", billed[:1].ids)]), line)
        self.assertEqual(
            Line.search([("billing_usage_ids", "!=", False)]).filtered(
                lambda aml: aml.move_id == invoice
            ),
            line,
        )


@tagged("post_install", "-at_install")
class TestUsageInput(UsageCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.schedule = cls._metered_schedule(
            extra_lines=[{"product_id": cls.product_sub.id, "name": "Base fee", "price_unit": 20.0}]
        )
        cls.line = cls.schedule.line_ids.filtered(lambda line: line.quantity_source == "usage")

    def _vals(self, reference, **vals):
        return {
            "line_id": self.line.id,
            "date": date(2027, 3, 5),
            "quantity": 1.0,
            "reference": reference,
            **vals,
        }

    def test_line_or_schedule_and_product(self):
        by_line, by_product = self.Usage.create(
            [
                self._vals("a"),
                {
                    "schedule_id": self.schedule.id,
                    "product_id": self.product_data.id,
                    "date": date(2027, 3, 5),
                    "quantity": 2.0,
                    "reference": "b",
                },
            ]
        )
        self.assertEqual(by_line.schedule_id, self.schedule)
        self.assertEqual(by_line.product_id, self.product_data)
        self.assertEqual(by_product.line_id, self.line)
        self.assertEqual(by_product.partner_id, self.customer)

    def test_duplicate_references(self):
        self.Usage.create([self._vals("dup")])
        count = self.Usage.search_count([])
        with self.assertRaisesRegex(ValidationError, "Usage already recorded.*reference dup"):
            self.Usage.create([self._vals("new-1"), self._vals("dup")])
        with self.assertRaisesRegex(ValidationError, "reference twice"):
            self.Usage.create([self._vals("twice"), self._vals("twice")])
        self.assertEqual(self.Usage.search_count([]), count, "nothing was stored")
        other = self.Usage.create([self._vals("other")])
        with self.assertRaisesRegex(ValidationError, "reference dup"):
            other.reference = "dup"
        # the same reference on another schedule is another record
        schedule_2 = self._metered_schedule()
        self._usage(schedule_2, date(2027, 3, 5), 1.0, "dup")
        # and the database itself refuses a second one, whatever the code does
        self.env.flush_all()
        with mute_logger("odoo.sql_db"), self.assertRaises(pg_errors.UniqueViolation):
            with self.env.cr.savepoint():
                self.env.cr.execute(
                    "INSERT INTO crm_billing_usage (schedule_id, line_id, product_id, company_id, "
                    "date, quantity, reference) SELECT schedule_id, line_id, product_id, company_id, "
                    "date, quantity, reference FROM crm_billing_usage WHERE id = %s",
                    [other.id],
                )

    def test_bad_input_is_refused_and_nothing_stored(self):
        count = self.Usage.search_count([])
        fixed_line = self.schedule.line_ids - self.line
        cases = [
            (self._vals("neg", quantity=-3.0), "negative quantity .* takes no corrections"),
            (
                self._vals(
                    "unknown", line_id=False, schedule_id=999999, product_id=self.product_data.id
                ),
                "Unknown billing schedule",
            ),
            (self._vals("fixed", line_id=fixed_line.id), "Base fee of .* is not metered"),
            (self._vals("early", date=date(2027, 2, 28)), "dated 2027-02-28, outside schedule"),
            (
                self._vals(
                    "prod",
                    line_id=False,
                    schedule_id=self.schedule.id,
                    product_id=self.product_a.id,
                ),
                "has no metered line of",
            ),
        ]
        for vals, message in cases:
            with self.subTest(message=message), self.assertRaisesRegex(ValidationError, message):
                # one bad record refuses the whole call (its transaction is rolled back)
                with self.env.cr.savepoint():
                    self.Usage.create([self._vals(f"ok-{vals['reference']}"), vals])
        self.assertEqual(self.Usage.search_count([]), count)
        self.line.allow_negative_usage = True
        self.assertEqual(self.Usage.create([self._vals("neg", quantity=-3.0)]).quantity, -3.0)

    def test_csv_import_from_the_list(self):
        csv = (
            "Schedule,Product,Date,Quantity,Reference\n"
            f"{self.schedule.name},{self.product_data.name},2027-03-01,120.5,csv-1\n"
            f"{self.schedule.name},{self.product_data.name},2027-03-02,80,csv-2\n"
        )
        importer = self.env["base_import.import"].create(
            {
                "res_model": "crm.billing.usage",
                "file": csv.encode(),
                "file_type": "text/csv",
                "file_name": "usage.csv",
            }
        )
        options = {
            "has_headers": True,
            "separator": ",",
            "quoting": '"',
            "date_format": "%Y-%m-%d",
            "float_thousand_separator": ",",
            "float_decimal_separator": ".",
            "import_skip_records": [],
            "import_set_empty_fields": [],
            "fallback_values": {},
            "name_create_enabled_fields": {},
        }
        fields = ["schedule_id", "product_id", "date", "quantity", "reference"]
        result = importer.execute_import(fields, fields, options)
        self.assertFalse(result["messages"], result["messages"])
        usage = self.Usage.browse(result["ids"])
        self.assertEqual(usage.mapped("quantity"), [120.5, 80.0])
        self.assertEqual(usage.line_id, self.line)
        # the same file again is refused as a whole, with the references named
        importer_2 = importer.copy({"file": csv.encode()})
        result = importer_2.execute_import(fields, fields, options)
        self.assertFalse(result["ids"])
        self.assertIn("csv-1", str(result["messages"]))

    def test_who_sees_usage(self):
        rep = new_test_user(self.env, "usage_rep", groups="sales_team.group_sale_salesman")
        other_rep = new_test_user(self.env, "usage_rep2", groups="sales_team.group_sale_salesman")
        accountant = new_test_user(self.env, "usage_acc", groups="account.group_account_invoice")
        self.schedule.user_id = rep
        usage = self._usage(self.schedule, date(2027, 3, 5), 1.0, "seen")
        self.assertEqual(self.Usage.with_user(rep).search([]), usage)
        self.assertFalse(self.Usage.with_user(other_rep).search([]))
        with self.assertRaises(AccessError):
            usage.with_user(other_rep).quantity = 5
        self.assertIn(usage, self.Usage.with_user(accountant).search([]))
        self.Usage.with_user(rep).create([self._vals("by-rep")])
        portal = new_test_user(
            self.env, "usage_portal", groups="base.group_portal", partner_id=self.customer.id
        )
        stranger = new_test_user(self.env, "usage_stranger", groups="base.group_portal")
        self.assertEqual(len(self.Usage.with_user(portal).search([])), 2)
        self.assertFalse(self.Usage.with_user(stranger).search([]))
        with self.assertRaises(AccessError):
            self.Usage.with_user(portal).create([self._vals("by-portal")])
        # another company's usage stays there
        company_b = self.setup_other_company()["company"]
        schedule_b = self.Schedule.with_company(company_b).create(
            {
                "partner_id": self.customer.id,
                "company_id": company_b.id,
                "currency_id": company_b.currency_id.id,
                "date_start": date(2027, 3, 1),
                "line_ids": [
                    Command.create(
                        {
                            "product_id": self.product_data.id,
                            "name": "Data transfer",
                            "quantity_source": "usage",
                            "price_unit": 0.1,
                        }
                    )
                ],
            }
        )
        usage_b = self.Usage.with_company(company_b).create(
            [
                {
                    "line_id": schedule_b.line_ids.id,
                    "date": date(2027, 3, 5),
                    "quantity": 1.0,
                    "reference": "b",
                }
            ]
        )
        self.assertNotIn(usage_b, self.Usage.with_user(accountant).search([]))
        self.assertNotIn(usage_b, self.Usage.with_user(portal).search([]))
        self.assertIn(usage_b, self.Usage.with_company(company_b).search([]))

    def test_portal_shows_current_usage(self):
        self._usage(self.schedule, date(2027, 3, 5), 1234.0, "p1")
        with freeze_time("2027-03-20"):
            usage = self.schedule._get_current_usage()
        self.assertEqual(usage[0]["quantity_text"], "1,234 GB")
        self.assertEqual(usage[0]["date_start"], date(2027, 3, 1))


@tagged("post_install", "-at_install")
class TestUsageLinkConcurrency(CommittedWorkersCase):
    """The links of a deleted invoice line go with it even when the line is
    deleted by a transaction that started before the usage was linked to it."""

    def _make_draft_invoice_with_usage(self):
        with self.registry.cursor() as cr:
            env = self._committed_env(cr)
            partner = env["res.partner"].create({"name": "Link Race Ltd", "street": "1 Race Road"})
            product = env["product.product"].create({"name": "Race GB", "lst_price": 0.10})
            schedule = env["crm.billing.schedule"].create(
                {
                    "partner_id": partner.id,
                    "date_start": date(2027, 3, 1),
                    "invoicing_mode": "postpaid",
                    "line_ids": [
                        Command.create(
                            {
                                "product_id": product.id,
                                "name": "Race GB",
                                "quantity_source": "usage",
                                "price_unit": 0.10,
                            }
                        )
                    ],
                }
            )
            schedule.action_start()
            usage = env["crm.billing.usage"].create(
                {
                    "schedule_id": schedule.id,
                    "product_id": product.id,
                    "date": date(2027, 3, 2),
                    "quantity": 5.0,
                    "reference": "race",
                }
            )
            invoice = env["account.move"].create(
                {
                    "move_type": "out_invoice",
                    "partner_id": partner.id,
                    "billing_schedule_id": schedule.id,
                    "invoice_line_ids": [Command.create({"name": "Race GB", "price_unit": 0.5})],
                }
            )
            ids = {
                "partner": partner.id,
                "product": product.id,
                "schedule": schedule.id,
                "usage": usage.id,
                "invoice": invoice.id,
                "line": invoice.invoice_line_ids.id,
            }
        self._add_committed_cleanup(self._delete, ids)
        return ids

    @staticmethod
    def _delete(env, ids):
        env["account.move"].browse(ids["invoice"]).exists().unlink()
        schedule = env["crm.billing.schedule"].browse(ids["schedule"])
        schedule.usage_ids.unlink()
        schedule.write({"state": "cancelled"})
        schedule.unlink()
        env["product.product"].browse(ids["product"]).unlink()
        env["res.partner"].browse(ids["partner"]).unlink()

    def _links_of(self, usage_id):
        with self.registry.cursor() as cr:
            cr.execute(
                "SELECT count(*) FROM crm_billing_usage_link WHERE usage_id = %s", [usage_id]
            )
            return cr.fetchone()[0]

    def test_a_line_deleted_while_usage_is_linked_to_it(self):
        ids = self._make_draft_invoice_with_usage()
        with self.registry.cursor() as deleter, self.registry.cursor() as linker_cr:
            deleter.execute("SELECT 1")  # its snapshot, taken before the link is committed
            linker = self._committed_env(linker_cr)
            line = linker["account.move.line"].browse(ids["line"])
            line._link_billing_usage([(line, [ids["usage"]])])
            linker_cr.commit()
            self.assertEqual(self._links_of(ids["usage"]), 1)
            # the delete that cannot see the link fails, as a clash of two workers
            # does: Odoo retries the request on a fresh snapshot
            with mute_logger("odoo.sql_db"), self.assertRaises(pg_errors.SerializationFailure):
                deleter.execute("DELETE FROM account_move_line WHERE id = %s", [ids["line"]])
            deleter.rollback()
            deleter.execute("DELETE FROM account_move_line WHERE id = %s", [ids["line"]])
            deleter.commit()
        self.assertEqual(self._links_of(ids["usage"]), 0, "the usage is free to be billed again")

    def test_two_transactions_link_the_same_usage(self):
        """The second of two transactions linking the same record, whose snapshot
        cannot see the first's link, fails as a clash of two workers does: Odoo
        retries it, and the retry is refused in the user's words."""
        ids = self._make_draft_invoice_with_usage()
        with self.registry.cursor() as first_cr, self.registry.cursor() as second_cr:
            second = self._committed_env(second_cr)
            second_cr.execute("SELECT 1")  # its snapshot, taken before the link
            first = self._committed_env(first_cr)
            line = first["account.move.line"].browse(ids["line"])
            line._link_billing_usage([(line, [ids["usage"]])])
            first_cr.commit()
            # the second bills it on an invoice of its own, of the same schedule
            vals = {
                "move_type": "out_invoice",
                "partner_id": ids["partner"],
                "billing_schedule_id": ids["schedule"],
                "invoice_line_ids": [
                    Command.create(
                        {
                            "name": "Race GB, again",
                            "price_unit": 0.5,
                            "billing_usage_ids": [Command.set([ids["usage"]])],
                        }
                    )
                ],
            }
            with self.assertRaises(pg_errors.SerializationFailure):
                second["account.move"].create(vals)
            second_cr.rollback()
            second.invalidate_all()
            with self.assertRaisesRegex(ValidationError, "Usage race is already invoiced"):
                second["account.move"].create(vals)
            second_cr.rollback()
        self.assertEqual(self._links_of(ids["usage"]), 1, "linked once")
