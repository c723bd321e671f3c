// Copyright 2026 crm_billing authors
// License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import { registry } from "@web/core/registry";

// A seller opens the Billing Plan of an order whose balance a plan already covers:
// the message says so at once, naming the plan, and no wizard opens.
// The order and its plan are made by tests/test_what_users_see.py.
registry.category("web_tour.tours").add("crm_billing_planned_order_tour", {
    steps: () => [
        {
            content: "Open the Billing Plan of the planned order",
            trigger: ".o_form_view .o_statusbar_buttons button[name='action_create_billing_schedule']",
            run: "click",
            timeout: 30000,
        },
        {
            content: "The seller is told the balance is already planned, and by which plan",
            trigger: ".modal:contains('already planned by'):contains('BS/')",
        },
        {
            content: "No plan wizard opened",
            trigger: "body:not(:has(.modal .o_field_widget[name='instalment_ids']))",
        },
        {
            content: "Close the message",
            trigger: ".modal .modal-footer button.btn-primary",
            run: "click",
        },
        {
            trigger: "body:not(:has(.modal))",
        },
    ],
});
