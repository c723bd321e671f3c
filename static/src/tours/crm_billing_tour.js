// Copyright 2026 crm_billing authors
// License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import { registry } from "@web/core/registry";

// A sales rep turns an opportunity into a deposit invoice: new quotation, confirm,
// instalment plan (the proposed 30% now / 70% in 30 days), deposit invoiced at once.
// The data (opportunity, product) is made by tests/test_tour_sales.py.
registry.category("web_tour.tours").add("crm_billing_instalment_tour", {
    steps: () => [
        {
            content: "Open the opportunity",
            trigger: ".o_kanban_record:contains('Instalment deal')",
            run: "click",
        },
        {
            content: "Make a quotation",
            trigger: ".o_form_view button[name='action_sale_quotations_new']",
            run: "click",
        },
        {
            content: "Add a product",
            trigger: ".o_form_view a:contains('Add a product')",
            run: "click",
        },
        {
            trigger: ".o_form_view .o_data_row:nth-child(1)",
        },
        {
            content: "Choose the consulting service",
            trigger: ".o_data_row div[name='product_template_id'] input",
            run: "edit Tour Consulting",
        },
        {
            trigger: "ul.ui-autocomplete a:contains('Tour Consulting')",
            run: "click",
        },
        {
            content: "The price comes from the product",
            trigger: ".o_form_view div[name='tax_totals']:contains('1,000.01')",
        },
        {
            content: "Confirm the quotation",
            trigger: ".o_form_view .o_statusbar_buttons button[name='action_confirm']",
            run: "click",
        },
        {
            content: "The estimate can still be printed and sent",
            trigger: ".o_form_view .o_statusbar_status button.o_arrow_button_current:contains('Sales Order')",
        },
        {
            content: "Bill the order",
            trigger: ".o_form_view .o_statusbar_buttons button[name='action_create_billing_schedule']",
            run: "click",
        },
        {
            content: "An instalment plan is proposed: 30% now, 70% in 30 days",
            trigger: ".modal .o_field_widget[name='instalment_ids'] .o_data_row:nth-child(2)",
        },
        {
            trigger: ".modal .o_field_widget[name='billing_mode'] input[data-value='instalment']:checked",
        },
        {
            content: "Nothing is left unplanned",
            trigger: ".modal .o_field_widget[name='amount_unplanned']:contains('0.00')",
        },
        {
            content: "Make the plan",
            trigger: ".modal footer button[name='action_confirm']",
            run: "click",
        },
        {
            content: "The deposit is invoiced at once",
            trigger: ".o_notification:contains('Deposit invoiced')",
        },
        {
            content: "The seller lands on the plan, running",
            trigger: ".o_form_view .o_statusbar_status button.o_arrow_button_current:contains('Running')",
        },
        {
            content: "The plan shows the deposit invoice",
            trigger: ".o_form_view button[name='action_view_invoices']:contains('1')",
        },
        {
            content: "Back to the order",
            trigger: ".breadcrumb-item.o_back_button",
            run: "click",
        },
        {
            content: "The order shows the down payment",
            trigger: ".o_form_view .o_field_widget[name='order_line'] .o_data_row:contains('Down Payment')",
        },
        {
            trigger: ".o_form_view button[name='action_view_invoice']:contains('1')",
        },
    ],
});
