# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Each role of the README's "Who may do what" table, tried over the ORM as the user
(``with_user``), as JSON-RPC would call it: what it reads, searches, groups, writes
and runs, for every crm_billing model."""

from datetime import date

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged
from odoo.tools import mute_logger

from .common import BillingCommon

ROLES = {
    "own": "sales_team.group_sale_salesman",
    "other_own": "sales_team.group_sale_salesman",
    "all": "sales_team.group_sale_salesman_all_leads",
    "billing_user": "crm_billing.group_billing_user",
    "billing_manager": "crm_billing.group_billing_manager",
    "invoicing": "account.group_account_invoice",
    "accountant": "account.group_account_manager",
}

#: the roles that see every billing record of their companies
ALL_ROLES = ("all", "billing_manager", "invoicing", "accountant")

#: the billing data hanging off a schedule: model -> path to its schedule
SCHEDULE_DATA = {
    "crm.billing.schedule": "id",
    "crm.billing.schedule.line": "schedule_id",
    "crm.billing.period": "schedule_id",
    "crm.billing.price.tier": "line_id.schedule_id",
    "crm.billing.usage": "schedule_id",
    "crm.billing.change": "schedule_id",
    "crm.billing.charge": "schedule_id",
}

#: the SQL-view analyses
REPORTS = (
    "crm.billing.mrr.report",
    "crm.billing.mrr.movement.report",
    "crm.billing.ageing.report",
    "crm.billing.payment.report",
    "crm.billing.collection.report",
)


class RolesCommon(BillingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        company = cls.env.company
        cls.users = {
            role: new_test_user(
                cls.env,
                login=f"sec_{role}",
                groups=groups,
                company_id=company.id,
                company_ids=[Command.set(company.ids)],
            )
            for role, groups in ROLES.items()
        }
        cls.portal = new_test_user(cls.env, login="sec_portal", groups="base.group_portal")
        cls.public = cls.env.ref("base.public_user")
        cls.customer.user_id = False
        cls.their_customer = cls.env["res.partner"].create(
            {"name": "Gannet Marine", "email": "ap@gannet.example.com"}
        )
        cls.their_customer.user_id = cls.users["other_own"]
        cls.product_metered = cls._create_product(name="API calls", lst_price=0.01, taxes_id=False)
        lines = [
            {
                "product_id": cls.product_sub.id,
                "name": "Support",
                "quantity": 1,
                "price_unit": 100.0,
                "tax_ids": [Command.set(cls.tax_sale_a.ids)],
            },
            {
                "product_id": cls.product_metered.id,
                "name": "API calls",
                "quantity_source": "usage",
                "pricing": "graduated",
                "price_unit": 0.0,
                "tier_ids": [
                    Command.create({"up_to": 1000, "price_unit": 0.02}),
                    Command.create({"up_to": False, "price_unit": 0.01}),
                ],
            },
        ]
        # one schedule per owner: the rep's, another rep's, nobody's, and another rep's
        # schedule of an order whose salesperson is the rep
        cls.mine = cls._create_schedule(lines, user_id=cls.users["own"].id, auto_post=False)
        cls.theirs = cls._create_schedule(
            lines,
            partner_id=cls.their_customer.id,
            user_id=cls.users["other_own"].id,
            auto_post=False,
        )
        cls.nobodys = cls._create_schedule(lines, user_id=False, auto_post=False)
        order = (
            cls.env["sale.order"]
            .sudo()
            .create(
                {
                    "partner_id": cls.customer.id,
                    "user_id": cls.users["own"].id,
                    "order_line": [Command.create({"product_id": cls.product_sub.id})],
                }
            )
        )
        cls.of_my_order = cls._create_schedule(
            lines, user_id=cls.users["other_own"].id, sale_order_id=order.id, auto_post=False
        )
        cls.all_schedules = cls.mine | cls.theirs | cls.nobodys | cls.of_my_order
        cls.all_schedules.write({"date_start": date(2027, 1, 1)})
        cls.all_schedules.action_start()
        cls.all_schedules._generate_invoices(date(2027, 2, 15), raise_errors=True)
        cls._create_billing_data(cls.all_schedules)
        cls.level = cls.env["crm.billing.reminder.level"].create(
            {"name": "Roles reminder", "days": 365, "channel": "letter", "company_id": company.id}
        )
        Reminder = cls.env["crm.billing.reminder"].sudo()
        cls.reminders = {
            schedule: Reminder.create(
                {
                    "partner_id": schedule.partner_id.id,
                    "company_id": company.id,
                    "level_id": cls.level.id,
                    "channel": "letter",
                    "date": date(2027, 3, 1),
                    "user_id": cls.env.ref("base.user_root").id,
                    "invoice_ids": [Command.set(schedule.invoice_ids.ids)],
                }
            )
            for schedule in cls.all_schedules
        }
        Statement = cls.env["crm.billing.statement"].sudo()
        statement = {
            "company_id": company.id,
            "statement_type": "outstanding",
            "date_to": date(2027, 3, 1),
            "date": date(2027, 3, 1),
            "user_id": cls.env.ref("base.user_root").id,
        }
        cls.statement_nobodys = Statement.create(statement | {"partner_id": cls.customer.id})
        cls.statement_theirs = Statement.create(statement | {"partner_id": cls.their_customer.id})
        cls.statement_sent_by_me = Statement.create(
            statement | {"partner_id": cls.their_customer.id, "user_id": cls.users["own"].id}
        )
        cls.statements = cls.statement_nobodys | cls.statement_theirs | cls.statement_sent_by_me
        cls.reason = cls.env["crm.billing.close.reason"].create({"name": "Roles: too dear"})

    @classmethod
    def _create_billing_data(cls, schedules):
        """Usage, a change and a (failed) charge on each schedule."""
        for schedule in schedules:
            fixed, metered = schedule.line_ids.sorted("id")
            cls.env["crm.billing.usage"].create(
                {
                    "line_id": metered.id,
                    "date": date(2027, 2, 20),
                    "quantity": 1500,
                    "reference": f"roles-{schedule.id}",
                }
            )
            cls.env["crm.billing.change"].sudo().create(
                {
                    "schedule_id": schedule.id,
                    "line_id": fixed.id,
                    "date": date(2027, 2, 20),
                    "old_quantity": 1,
                    "new_quantity": 2,
                    "old_price_unit": 100.0,
                    "new_price_unit": 100.0,
                }
            )
            cls.env["crm.billing.charge"].sudo().create(
                {
                    "invoice_id": schedule.invoice_ids.sorted("id")[0].id,
                    "state": "failed",
                    "failure_reason": "card declined",
                }
            )

    # --- helpers ---

    def _as(self, role):
        return self.users[role] if role in self.users else getattr(self, role)

    def _schedules_seen(self, role, model):
        """The fixture's schedules whose ``model`` records the role finds by search."""
        records = self.env[model].with_user(self._as(role)).search([])
        path = SCHEDULE_DATA[model]
        schedules = records if path == "id" else records.sudo().mapped(path)
        return schedules.with_env(self.env) & self.all_schedules


@tagged("post_install", "-at_install")
class TestRoles(RolesCommon):
    """Each role reads, searches, groups, writes and runs what the README's table says."""

    def _visible(self, role, model="crm.billing.schedule"):
        return self.env[model].with_user(self.users[role]).search([])

    def _check_sees(self, role, expected):
        """``role`` finds, reads and groups the billing data of ``expected`` schedules
        only, and is refused the others'."""
        user = self._as(role)
        hidden = self.all_schedules - expected
        for model, path in SCHEDULE_DATA.items():
            self.assertEqual(self._schedules_seen(role, model), expected, f"{role} {model}")
            Model = self.env[model].with_user(user)
            domain = [(path, "in", self.all_schedules.ids)]
            counted = Model._read_group(domain, [], ["__count"])[0][0]
            self.assertEqual(
                counted,
                len(self.env[model].search(domain).filtered_domain([(path, "in", expected.ids)])),
                f"{role} {model} read_group",
            )
            groups = Model.formatted_read_group(domain, ["company_id"], ["__count"])
            self.assertEqual(sum(g["__count"] for g in groups), counted, f"{role} {model}")
            mine = self.env[model].search([(path, "in", expected.ids)])
            mine.with_user(user).read(["display_name"])
            for record in self.env[model].search([(path, "in", hidden.ids)]):
                with self.assertRaises(AccessError, msg=f"{role} {model} {record}"):
                    record.with_user(user).read(["display_name"])

    def test_own_documents_only(self):
        """Sales "Own Documents Only" (and a Billing User) sees its own schedules,
        those of its orders and those without a salesperson, with every record
        hanging off them; another rep's are out of reach over RPC."""
        for role, expected in (
            ("own", self.mine | self.nobodys | self.of_my_order),
            ("other_own", self.theirs | self.nobodys | self.of_my_order),
            ("billing_user", self.nobodys),
        ):
            self._check_sees(role, expected)
            user = self.users[role]
            other = (self.all_schedules - expected)[0]
            theirs = other.with_user(user)
            with self.assertRaises(AccessError):
                theirs.check_access("read")
            with self.assertRaises(AccessError):
                theirs.write({"date_end": date(2030, 1, 1)})
            with self.assertRaises(AccessError):
                theirs.action_pause()
            with self.assertRaises(AccessError):
                theirs.action_generate_invoices()
            with self.assertRaises(AccessError):
                other.line_ids.with_user(user).write({"name": "Mine now"})
            with self.assertRaises(AccessError):
                other.line_ids.tier_ids.with_user(user).write({"price_unit": 0.0})
            with self.assertRaises(AccessError):
                self.env["crm.billing.usage"].with_user(user).create(
                    {"line_id": other.line_ids[1].id, "quantity": 1, "reference": f"x-{role}"}
                )
            self.assertEqual(other.state, "running")
        # reminders follow the invoices (as sale's own-documents rule on invoices);
        # statements the customer's salesperson or the sender
        own = self.users["own"]
        reminders = self.env["crm.billing.reminder"].with_user(own).search([])
        self.assertEqual(
            reminders & self.env["crm.billing.reminder"].union(*self.reminders.values()),
            self.reminders[self.mine] | self.reminders[self.nobodys],
        )
        with self.assertRaises(AccessError):
            self.reminders[self.theirs].with_user(own).read(["date"])
        statements = self.env["crm.billing.statement"].with_user(own).search([])
        self.assertEqual(
            statements & self.statements, self.statement_nobodys | self.statement_sent_by_me
        )
        with self.assertRaises(AccessError):
            self.statement_theirs.with_user(own).read(["date"])
        statements = self.env["crm.billing.statement"].with_user(self.users["billing_user"])
        self.assertEqual(statements.search([]) & self.statements, self.statement_nobodys)
        statements = self.env["crm.billing.statement"].with_user(self.users["other_own"]).search([])
        self.assertEqual(statements & self.statements, self.statements)
        # own ones are worked as usual; what was recorded stays as recorded
        self.nobodys.with_user(own).action_pause()
        self.assertEqual(self.nobodys.state, "paused")
        self.mine.line_ids[1].tier_ids[0].with_user(own).price_unit = 0.03
        usage = (
            self.env["crm.billing.usage"]
            .with_user(own)
            .create(
                {
                    "line_id": self.mine.line_ids[1].id,
                    "date": date(2027, 2, 21),
                    "quantity": 7,
                    "reference": "own-1",
                }
            )
        )
        self.assertEqual(usage.schedule_id, self.mine)
        for model in ("crm.billing.change", "crm.billing.charge", "crm.billing.statement"):
            record = self.env[model].with_user(own).search([], limit=1)
            with self.assertRaises(AccessError, msg=model):
                record.write({"date": date(2027, 1, 1)})
            with self.assertRaises(AccessError, msg=model):
                record.unlink()
        with self.assertRaises(AccessError):
            self.reminders[self.mine].with_user(own).unlink()

    def test_all_documents(self):
        """Sales "All Documents", Billing Manager, Invoicing and Accountant see every
        billing record of their companies."""
        for role in ALL_ROLES:
            self._check_sees(role, self.all_schedules)
            user = self.users[role]
            reminders = self.env["crm.billing.reminder"].with_user(user).search([])
            self.assertEqual(len(reminders & self.reminders[self.theirs]), 1, role)
            statements = self.env["crm.billing.statement"].with_user(user).search([])
            self.assertEqual(statements & self.statements, self.statements, role)
            self.theirs.with_user(user).write({"note": f"<p>{role}</p>"})
            self.theirs.line_ids[1].tier_ids[0].with_user(user).price_unit = 0.02

    def test_history_is_written_by_the_code_only(self):
        """Changes, charges, reminders and statements are never written, made nor
        deleted over RPC, whatever the role; periods only by billing managers."""
        history = {
            "crm.billing.change": self.theirs.change_ids,
            "crm.billing.charge": self.theirs.billing_charge_ids,
            "crm.billing.reminder": self.reminders[self.theirs],
            "crm.billing.statement": self.statement_theirs,
        }
        for role in ("own", "other_own", "billing_user", *ALL_ROLES):
            user = self.users[role]
            for model, record in history.items():
                with self.assertRaises(AccessError, msg=f"{role} {model}"):
                    record.with_user(user).write({"date": date(2027, 1, 1)})
                with self.assertRaises(AccessError, msg=f"{role} {model}"):
                    record.with_user(user).unlink()
                with self.assertRaises(AccessError, msg=f"{role} {model}"):
                    self.env[model].with_user(user).create({"company_id": self.env.company.id})
            if role not in ("billing_manager", "accountant"):
                with self.assertRaises(AccessError, msg=role):
                    self.theirs.period_ids[:1].with_user(user).unlink()

    def test_multi_company(self):
        """Every record of another company is out of sight, whatever the role."""
        other = self.setup_other_company(name="Roles Other Co")["company"]
        schedule = self._create_schedule(
            [{"name": "Support", "price_unit": 100.0}],
            company_id=other.id,
            user_id=False,
            auto_post=False,
            date_start=date(2027, 1, 1),
        )
        statement = (
            self.env["crm.billing.statement"]
            .sudo()
            .create(
                {
                    "partner_id": self.customer.id,
                    "company_id": other.id,
                    "statement_type": "outstanding",
                    "date_to": date(2027, 3, 1),
                    "date": date(2027, 3, 1),
                }
            )
        )
        for role in ("own", "billing_user", *ALL_ROLES):
            user = self.users[role]
            self.assertFalse(
                self.env["crm.billing.schedule"].with_user(user).search([("id", "=", schedule.id)]),
                role,
            )
            with self.assertRaises(AccessError, msg=role):
                schedule.with_user(user).read(["name"])
            with self.assertRaises(AccessError, msg=role):
                schedule.line_ids.with_user(user).read(["name"])
            with self.assertRaises(AccessError, msg=role):
                statement.with_user(user).read(["date"])

    def test_customer_form_counts_what_opens(self):
        """Every count on the customer's form is the number of records the user then
        opens; the invoice's charge count likewise."""
        for role, count in (("own", 3), ("other_own", 3), ("billing_user", 1), ("all", 3)):
            self.env.invalidate_all()  # each user opens the form in his own request
            user = self.users[role]
            customer = self.customer.with_user(user)
            if role == "other_own":
                customer = self.their_customer.with_user(user) | customer
            schedules = self.env["crm.billing.schedule"].with_user(user)
            self.assertEqual(sum(customer.mapped("billing_schedule_count")), count, role)
            for partner in customer:
                opened = schedules.search(partner.action_view_billing_schedules()["domain"])
                self.assertEqual(len(opened), partner.billing_schedule_count, role)
                reminders = self.env["crm.billing.reminder"].with_user(user)
                opened = reminders.search(partner.action_view_billing_reminders()["domain"])
                self.assertEqual(len(opened), partner.billing_reminder_count, role)
                statements = self.env["crm.billing.statement"].with_user(user)
                opened = statements.search(partner.action_view_billing_statements()["domain"])
                self.assertTrue(opened.ids is not None)
        # the rep opens the invoices of his schedule, not the charges of others'
        rep = self.users["own"]
        for schedule in (self.mine, self.nobodys):
            invoice = schedule.invoice_ids.sorted("id")[0].with_user(rep)
            self.assertEqual(invoice.billing_charge_count, 1)
            charges = self.env["crm.billing.charge"].with_user(rep)
            self.assertEqual(
                len(charges.search(invoice.action_view_billing_charges()["domain"])), 1
            )
        # the order's count too
        order = self.of_my_order.sale_order_id
        self.assertEqual(order.with_user(self.users["own"]).billing_schedule_count, 1)
        # a schedule's own counts are of what opens
        for role in ("own", "billing_user", "all", "invoicing"):
            user = self.users[role]
            schedule = self.nobodys.with_user(user)
            self.assertEqual(schedule.change_count, 1, role)
            self.assertEqual(schedule.usage_count, 1, role)
            self.assertEqual(len(schedule.billing_charge_ids), 1, role)

    def test_schedule_form_opens_for_every_role(self):
        """Each role with the Billing menu opens the schedule form: every field the
        form shows it is readable by it."""
        for role in ("own", "billing_user", *ALL_ROLES):
            user = self.users[role]
            Schedule = self.env["crm.billing.schedule"].with_user(user)
            fields = Schedule.get_views([(False, "form"), (False, "list")])["models"][
                "crm.billing.schedule"
            ]["fields"]
            self.nobodys.with_user(user).read(list(fields))
            self.env.invalidate_all()

    def test_reports(self):
        """The SQL-view analyses are read by Billing Managers, Invoicing users and
        accountants, for their companies; sales users are refused."""
        for model in REPORTS:
            for role in ("own", "all", "billing_user"):
                with self.assertRaises(AccessError, msg=f"{model} {role}"):
                    self.env[model].with_user(self.users[role])._read_group([], [], ["__count"])
            with self.assertRaises(AccessError, msg=model):
                self.env[model].with_user(self.portal).search([])
            for role in ("billing_manager", "invoicing", "accountant"):
                Report = self.env[model].with_user(self.users[role])
                Report._read_group([], [], ["__count"])
                Report.formatted_read_group([], ["company_id"], ["__count"])
                rows = Report.search_read([], ["company_id"], limit=50)
                self.assertFalse(
                    [
                        r
                        for r in rows
                        if r["company_id"] and r["company_id"][0] != self.env.company.id
                    ]
                )
                self.assertFalse(Report.has_access("write"), f"{model} {role}")
            # Invoicing users see the same rows as the billing managers
            self.assertEqual(
                self.env[model].with_user(self.users["invoicing"]).search_count([]),
                self.env[model].with_user(self.users["billing_manager"]).search_count([]),
                model,
            )

    def test_configuration(self):
        """Reminder levels and close reasons are read by every billing user and
        managed by Billing Managers only."""
        for role in ("own", "all", "billing_user", "invoicing"):
            user = self.users[role]
            self.level.with_user(user).read(["name", "days"])
            self.reason.with_user(user).read(["name", "schedule_count"])
            with self.assertRaises(AccessError, msg=role):
                self.level.with_user(user).write({"days": 1})
            with self.assertRaises(AccessError, msg=role):
                self.reason.with_user(user).write({"name": "Cheaper elsewhere"})
            with self.assertRaises(AccessError, msg=role):
                self.env["crm.billing.close.reason"].with_user(user).create({"name": role})
        for role in ("billing_manager", "accountant"):
            user = self.users[role]
            self.level.with_user(user).days = 400
            reason = self.env["crm.billing.close.reason"].with_user(user).create({"name": role})
            reason.unlink()
        with self.assertRaises(AccessError):
            self.level.with_user(self.portal).read(["name"])
        self.assertIn(
            self.reason, self.env["crm.billing.close.reason"].with_user(self.portal).search([])
        )

    def test_menus_show_what_opens(self):
        """Each role's Billing menus lead to lists it may open; the analyses and the
        reminder levels only to their roles."""
        Menu = self.env["ir.ui.menu"]
        reporting = self.env.ref("crm_billing.crm_billing_reporting_menu")
        levels = self.env.ref("crm_billing.crm_billing_reminder_level_menu")
        root = self.env.ref("crm_billing.crm_billing_sale_menu")
        billing_menus = Menu.search([("id", "child_of", root.id)]) | Menu.search(
            [("id", "child_of", self.env.ref("crm_billing.crm_billing_account_menu").id)]
        )
        for role, sees_reports, sees_levels in (
            ("own", False, False),
            ("all", False, False),
            ("billing_user", False, False),
            ("invoicing", True, False),
            ("billing_manager", True, True),
            ("accountant", True, True),
        ):
            user = self.users[role]
            visible = Menu.with_user(user)._visible_menu_ids()
            self.assertEqual(reporting.id in visible, sees_reports, role)
            self.assertEqual(levels.id in visible, sees_levels, role)
            for menu in billing_menus.filtered(lambda m, v=visible: m.id in v and m.action):
                action = menu.action.sudo()
                if action._name != "ir.actions.act_window":
                    continue
                Model = self.env[action.res_model].with_user(user)
                # the list opens: search and group as the web client does
                Model.web_search_read([], {"display_name": {}}, limit=80)
                Model.formatted_read_group([], [], ["__count"])
            self.env.registry.clear_cache()
        for user in (self.portal, self.public):
            self.assertFalse(Menu.with_user(user).has_access("read"))

    def test_portal(self):
        """A portal customer reads the started schedules of its commercial partner
        with everything hanging off them, changes and runs nothing over RPC."""
        self.portal.partner_id.parent_id = self.their_customer
        for model in SCHEDULE_DATA:
            seen = self._schedules_seen("portal", model)
            self.assertEqual(seen, self.theirs, model)
        for model in (
            "crm.billing.reminder",
            "crm.billing.statement",
            "crm.billing.reminder.level",
        ):
            with self.assertRaises(AccessError, msg=model):
                self.env[model].with_user(self.portal).search([])
        # a draft shows nothing, not even its lines, prices or usage
        draft = self.theirs.copy({"state": "draft"})
        self.env["crm.billing.usage"].create(
            {
                "line_id": draft.line_ids[1].id,
                "date": date(2027, 2, 20),
                "quantity": 3,
                "reference": "draft",
            }
        )
        self.assertTrue(draft.line_ids.tier_ids)
        for model, path in SCHEDULE_DATA.items():
            records = self.env[model].with_user(self.portal).search([])
            schedules = records if path == "id" else records.sudo().mapped(path)
            self.assertEqual(schedules.ids, self.theirs.ids, model)
        theirs = self.theirs.with_user(self.portal)
        for method in (
            "action_pause",
            "action_cancel",
            "action_generate_invoices",
            "action_billing_renew",
            "action_charge_now",
        ):
            with self.assertRaises(AccessError, msg=method):
                getattr(theirs, method)()
        with self.assertRaises(AccessError):
            theirs.write({"note": "hello"})
        with self.assertRaises(AccessError):
            self.theirs.line_ids[0].with_user(self.portal).write({"quantity": 100})
        with self.assertRaises(AccessError):
            self.env["crm.billing.usage"].with_user(self.portal).create(
                {"line_id": self.theirs.line_ids[1].id, "quantity": 1, "reference": "portal"}
            )
        invoice = self.theirs.invoice_ids[:1].with_user(self.portal)
        with self.assertRaises(AccessError):
            invoice.action_billing_charge_now()
        # the portal's own methods still refuse what the schedule does not allow
        with self.assertRaisesRegex(UserError, "cannot be cancelled online"):
            theirs.billing_portal_cancel(self.reason.id)
        with self.assertRaises(AccessError):
            self.mine.with_user(self.portal).billing_portal_cancel(self.reason.id)
        self.assertEqual(self.theirs.state, "running")

    def test_payment_method_links_are_the_owners(self):
        """Which schedules charge a saved payment method is told to its owner only."""
        if "demo_simulated_state" not in self.env["payment.token"]._fields:
            self.skipTest("needs payment_demo (tests/test_modules.txt)")
        provider = (
            self.env.ref("payment.payment_provider_demo")
            .sudo()
            .copy({"company_id": self.env.company.id, "state": "test"})
        )
        token = (
            self.env["payment.token"]
            .sudo()
            .create(
                {
                    "provider_id": provider.id,
                    "payment_method_id": self.env.ref("payment.payment_method_unknown").id,
                    "partner_id": self.portal.partner_id.id,
                    "payment_details": "4242",
                    "provider_ref": "roles",
                }
            )
        )
        self.portal.partner_id.parent_id = self.their_customer
        self.theirs.payment_token_id = token
        intruder = new_test_user(self.env, login="sec_portal_2", groups="base.group_portal")
        with self.assertRaises(AccessError):
            token.with_user(intruder).get_linked_records_info()
        # sales reps read every token (sale's rule): only the schedules they open
        linked = token.with_user(self.users["own"]).get_linked_records_info()
        self.assertNotIn(self.theirs.name, [record["name"] for record in linked])
        for owner in (self.portal, self.users["other_own"]):
            linked = token.with_user(owner).get_linked_records_info()
            self.assertIn(self.theirs.name, [record["name"] for record in linked])

    @mute_logger("odoo.models")
    def test_public(self):
        """The public user (no login) reads nothing of billing over RPC."""
        for model in (*SCHEDULE_DATA, *REPORTS, "crm.billing.reminder", "crm.billing.statement"):
            with self.assertRaises(AccessError, msg=model):
                self.env[model].with_user(self.public).search([])
        with self.assertRaises(AccessError):
            self.theirs.with_user(self.public).billing_portal_cancel(self.reason.id)

    def test_actions_follow_the_table(self):
        """The buttons and wizards over RPC: a rep runs his schedules' actions (as
        drafts), charging and posting need Invoicing rights; nobody runs them on a
        schedule he cannot edit."""
        rep = self.users["own"]
        mine = self.mine.with_user(rep)
        with self.assertRaisesRegex(AccessError, "Invoicing rights or billing managers"):
            mine.action_charge_now()
        invoice = self.mine.invoice_ids.sorted("id")[0]
        invoice.action_post()
        with self.assertRaisesRegex(AccessError, "Invoicing rights or billing managers"):
            invoice.with_user(rep).action_billing_charge_now()
        # wizards run on what the user may change only
        Close = self.env["crm.billing.close.wizard"].with_user(rep)
        with self.assertRaises(AccessError):
            Close.create(
                {"schedule_ids": [Command.set(self.theirs.ids)], "reason_id": self.reason.id}
            ).action_close()
        self.assertFalse(self.theirs.close_reason_id)
        Change = self.env["crm.billing.change.wizard"].with_user(rep)
        with self.assertRaises(AccessError):
            Change.create(
                {
                    "schedule_id": self.theirs.id,
                    "date": date(2027, 2, 20),
                    "line_ids": [
                        Command.create({"line_id": self.theirs.line_ids[0].id, "quantity": 9})
                    ],
                }
            ).action_apply()
        self.assertEqual(self.theirs.line_ids[0].quantity, 1)
        with self.assertRaises(AccessError):
            self.theirs.with_user(rep).action_billing_renew()
        # statements list all the customer's invoices: his customers' only
        Statement = self.env["crm.billing.statement.wizard"].with_user(rep)
        with self.assertRaisesRegex(AccessError, "Gannet Marine has another salesperson"):
            Statement.create(
                {
                    "partner_ids": [Command.set(self.their_customer.ids)],
                    "include_zero_balance": True,
                }
            ).action_print()
        action = Statement.create(
            {"partner_ids": [Command.set(self.customer.ids)], "include_zero_balance": True}
        ).action_print()
        self.assertEqual(action["context"]["active_ids"], self.customer.ids)
        for role in ("all", "invoicing"):
            self.env["crm.billing.statement.wizard"].with_user(self.users[role]).create(
                {
                    "partner_ids": [Command.set(self.their_customer.ids)],
                    "include_zero_balance": True,
                }
            ).action_print()
        # his own schedule he closes at the end of its period, and reactivates
        mine.date_end = date(2027, 12, 31)
        Close.create(
            {"schedule_ids": [Command.set(self.mine.ids)], "reason_id": self.reason.id}
        ).action_close()
        self.assertEqual(self.mine.close_reason_id, self.reason)
        mine.action_billing_reactivate()
        self.assertFalse(self.mine.close_reason_id)
        # only billing managers delete (draft) schedules
        draft = self._create_schedule(user_id=rep.id, auto_post=False)
        with self.assertRaises(AccessError):
            draft.with_user(rep).unlink()
        with self.assertRaises(AccessError):
            draft.with_user(self.users["invoicing"]).unlink()
        draft.with_user(self.users["billing_manager"]).unlink()
        # Invoicing users record usage on every schedule
        usage = (
            self.env["crm.billing.usage"]
            .with_user(self.users["invoicing"])
            .create(
                {
                    "line_id": self.theirs.line_ids[1].id,
                    "date": date(2027, 2, 22),
                    "quantity": 4,
                    "reference": "invoicing-1",
                }
            )
        )
        self.assertEqual(usage.schedule_id, self.theirs)
        # an accountant runs them all
        accountant = self.users["invoicing"]
        wizard = (
            self.env["crm.billing.close.wizard"]
            .with_user(accountant)
            .create(
                {
                    "schedule_ids": [Command.set(self.theirs.ids)],
                    "reason_id": self.reason.id,
                    "when": "period_end",
                }
            )
        )
        wizard.action_close()
        self.assertEqual(self.theirs.close_reason_id, self.reason)
