# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import Command
from odoo.tests import new_test_user, tagged

from .common import BillingCommon


@tagged("post_install", "-at_install")
class TestGoodGuest(BillingCommon):
    """crm_billing changes nothing a user of Sales or Invoicing meets first: the apps
    open where Odoo opens them, and Odoo's own entries lead the Print and action
    menus and the Send defaults. (tools/host_suite.sh runs Odoo's own suites.)"""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        company = cls.env.company

        def user(login, groups):
            return new_test_user(
                cls.env,
                login=login,
                groups=groups,
                company_id=company.id,
                company_ids=[Command.set(company.ids)],
            )

        cls.users = {
            "sales rep": user(
                "guest_rep", "sales_team.group_sale_salesman,crm_billing.group_billing_user"
            ),
            "billing manager": user(
                "guest_billing_manager",
                "sales_team.group_sale_manager,crm_billing.group_billing_manager",
            ),
            "accountant": user(
                "guest_accountant", "account.group_account_invoice,crm_billing.group_billing_user"
            ),
        }
        cls.billing_menus = cls.env["ir.ui.menu"].search(
            [
                (
                    "id",
                    "in",
                    cls.env["ir.model.data"]
                    .search([("module", "=", "crm_billing"), ("model", "=", "ir.ui.menu")])
                    .mapped("res_id"),
                )
            ]
        )

    def _opening_action(self, app_xmlid, user):
        """The action the web client runs when this user clicks the app."""
        menus = self.env["ir.ui.menu"].with_user(user).load_web_menus(False)
        return menus.get(self.env.ref(app_xmlid).id, {}).get("actionID")

    def test_sales_app_opens_on_quotations(self):
        quotations = self.env.ref("sale.action_quotations_with_onboarding").id
        for role in ("sales rep", "billing manager"):
            with self.subTest(role=role):
                self.assertEqual(
                    self._opening_action("sale.sale_menu_root", self.users[role]), quotations
                )

    def test_apps_open_where_they_open_without_crm_billing(self):
        apps = ("sale.sale_menu_root", "account.menu_finance", "crm.crm_menu_root")
        opening = {
            (app, role): self._opening_action(app, user)
            for app in apps
            for role, user in self.users.items()
        }
        self.billing_menus.active = False
        for (app, role), action in opening.items():
            without = self._opening_action(app, self.users[role])
            # an app the user has without crm_billing opens where it opened; an
            # accountant who is a billing user also finds Sales > Billing, which
            # is crm_billing's own
            if without:
                with self.subTest(app=app, role=role):
                    self.assertEqual(action, without)
        self.assertEqual(
            opening["sale.sale_menu_root", "accountant"],
            self.env.ref("crm_billing.crm_billing_schedule_action").id,
        )

    def test_billing_menu_comes_after_odoo_orders(self):
        menu = self.env.ref("crm_billing.crm_billing_sale_menu")
        orders = self.env.ref("sale.sale_order_menu")
        siblings = menu.parent_id.child_id.sorted(lambda m: (m.sequence, m.id))
        self.assertLess(list(siblings).index(orders), list(siblings).index(menu))

    def _bindings_from_crm_billing(self, model, binding_type):
        """For each entry of the model's Print ("report") or gear ("action") menu,
        in menu order: whether crm_billing added it."""
        bindings = self.env["ir.actions.actions"].get_bindings(model).get(binding_type, ())
        ours = set(
            self.env["ir.model.data"]
            .search([("module", "=", "crm_billing"), ("model", "like", "ir.actions.%")])
            .mapped("res_id")
        )
        return [binding["id"] in ours for binding in bindings]

    def test_odoo_entries_lead_print_and_action_menus(self):
        for model in ("sale.order", "account.move", "account.payment", "res.partner"):
            for binding_type in ("report", "action"):
                with self.subTest(model=model, menu=binding_type):
                    entries = self._bindings_from_crm_billing(model, binding_type)
                    # Odoo's own entries first, crm_billing's (if any) after them
                    self.assertEqual(entries, sorted(entries))

    def test_send_keeps_odoo_templates(self):
        order = (
            self.env["sale.order"]
            .with_user(self.users["billing manager"])
            .create(
                {
                    "partner_id": self.customer.id,
                    "order_line": [Command.create({"product_id": self.product_sub.id})],
                }
            )
        )
        action = order.action_quotation_send()
        self.assertEqual(
            action["context"]["default_template_id"],
            self.env.ref("sale.email_template_edi_sale").id,
        )
        invoice = self.init_invoice("out_invoice", partner=self.customer, amounts=[100.0])
        self.assertEqual(
            invoice._get_mail_template(), self.env.ref("account.email_template_edi_invoice")
        )
