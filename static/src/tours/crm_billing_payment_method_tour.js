// Copyright 2026 crm_billing authors
// License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import { registry } from "@web/core/registry";

// A customer, in the portal, chooses which saved payment method pays a billing
// schedule automatically. The data is made by tests/test_tour_charge.py.
registry.category("web_tour.tours").add("crm_billing_payment_method_tour", {
    steps: () => [
        {
            content: "Open the schedule from the list",
            trigger: "a:contains('Tour Schedule')",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "The schedule says how it is paid",
            trigger: "#billing_payment_method:contains('Pay automatically with')",
        },
        {
            content: "Nothing is charged automatically yet",
            trigger: ".o_billing_payment_method_current:contains('paid by hand')",
        },
        {
            content: "Adding a payment method is one click away",
            trigger: "#billing_payment_method a[href='/my/payment_method']",
        },
        {
            content: "Choose the saved card",
            trigger: "#billing_payment_method label:contains('4321')",
            run: "click",
        },
        {
            content: "Save",
            trigger: "#billing_payment_method button.o_billing_save_payment_method",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "The choice is saved",
            trigger: ".o_billing_payment_method_saved",
        },
        {
            content: "Each invoice is charged to the card from now on",
            trigger: ".o_billing_payment_method_current:contains('4321')",
        },
    ],
});
