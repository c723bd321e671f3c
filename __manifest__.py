# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
{
    "name": "CRM Billing",
    "summary": "Recurring and instalment billing, payment reminders and "
    "verifiable receipts, from the CRM",
    "version": "19.0.1.0.0",
    "category": "Sales/Sales",
    "website": "https://github.com/crm-billing/crm_billing",
    "author": "crm_billing authors",
    "maintainers": ["crm-billing"],
    "license": "LGPL-3",
    "application": False,
    "installable": True,
    "depends": ["sale_management", "sale_crm", "account", "portal", "mail"],
    "external_dependencies": {"python": ["num2words"]},
    "data": [
        "security/crm_billing_security.xml",
        "security/ir.model.access.csv",
        "data/ir_sequence_data.xml",
        "data/ir_cron_data.xml",
        "views/crm_billing_schedule_views.xml",
        "views/crm_billing_period_views.xml",
        "views/res_partner_views.xml",
        "views/sale_order_views.xml",
        "views/account_move_views.xml",
        "views/crm_billing_portal_templates.xml",
        "views/product_template_views.xml",
        "views/crm_lead_views.xml",
        "wizards/crm_billing_schedule_wizard_views.xml",
        "views/crm_billing_portal_templates.xml",
        "views/crm_billing_mrr_report_views.xml",
        "views/crm_billing_mrr_movement_report_views.xml",
        "views/crm_billing_ageing_report_views.xml",
        "views/crm_billing_payment_report_views.xml",
        "views/crm_billing_menus.xml",
    ],
    "assets": {
        "web.assets_tests": [
            "crm_billing/static/src/tours/*.js",
        ],
    },
    "demo": [
        "demo/crm_billing_demo.xml",
    ],
}
