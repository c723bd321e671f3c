// Copyright 2026 crm_billing authors
// License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import { registry } from "@web/core/registry";

// A portal customer on its schedule's page: one more seat (reviewed, then
// confirmed), then cancels at the end of the period, reactivates, and cancels again.
// The data is made by tests/test_lifecycle_portal.py.
registry.category("web_tour.tours").add("crm_billing_portal_self_service_tour", {
    steps: () => [
        {
            content: "Ask for 3 seats",
            trigger: ".o_billing_change_form input[name='quantity']",
            run: "edit 3",
        },
        {
            content: "Review the change",
            trigger: ".o_billing_change_form .o_billing_review",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "The prorated amount is shown before confirming",
            trigger: ".o_billing_prorated:contains('prorated for the rest of the period'), .o_billing_prorated:contains('Nothing is invoiced')",
        },
        {
            content: "Confirm",
            trigger: ".o_billing_confirm",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "The change is done",
            trigger: ".o_billing_notice:contains('Your subscription has been changed.')",
        },
        {
            content: "Choose a reason",
            trigger: "select#billing_reason",
            run: "selectByLabel No longer needed",
        },
        {
            content: "Cancel at the end of the period",
            trigger: ".o_billing_cancel",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "Keep it after all",
            trigger: ".o_billing_reactivate",
            run: "click",
            expectUnloadPage: true,
        },
        {
            trigger: ".o_billing_notice:contains('Your subscription goes on.')",
        },
        {
            content: "Choose a reason again",
            trigger: "select#billing_reason",
            run: "selectByLabel No longer needed",
        },
        {
            content: "And cancel for good",
            trigger: ".o_billing_cancel",
            run: "click",
            expectUnloadPage: true,
        },
        {
            trigger: ".o_billing_notice:contains('ends with the current period')",
        },
    ],
});
