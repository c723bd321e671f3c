# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from collections import OrderedDict

from dateutil.relativedelta import relativedelta

from odoo import _, fields, http
from odoo.exceptions import AccessError, MissingError, UserError, ValidationError
from odoo.fields import Domain
from odoo.http import request
from odoo.tools import consteq

from odoo.addons.portal.controllers.portal import CustomerPortal
from odoo.addons.portal.controllers.portal import pager as portal_pager

RECEIPT_REPORT_XMLID = "account.action_report_payment_receipt"
STATEMENT_REPORT_XMLID = "crm_billing.action_report_statement"


class BillingBackendRedirect(Exception):
    """An internal user asked for a portal page: the backend shows the record,
    under the user's own access rules."""

    def __init__(self, url):
        super().__init__(url)
        self.url = url


class CrmBillingPortal(CustomerPortal):
    """Billing schedules in the customer portal: the list, one schedule with its
    periods, invoices and receipts, and the receipt download.

    Access follows Odoo's portal rules: the record rules give a portal user the
    schedules of its commercial entity, and an access token opens one schedule to
    whoever holds it; anything else is turned away without saying whether the
    schedule exists."""

    # --- Home ---

    def _prepare_home_portal_values(self, counters):
        values = super()._prepare_home_portal_values(counters)
        if "billing_schedule_count" in counters:
            Schedule = request.env["crm.billing.schedule"]
            values["billing_schedule_count"] = (
                Schedule.search_count(self._get_billing_schedules_domain())
                if Schedule.has_access("read")
                else 0
            )
        return values

    # --- Schedules ---

    def _get_billing_schedules_domain(self):
        """Schedules shown in the portal: the customer's own, once started. Drafts
        are the seller's work in progress; the record rules add the partner limit
        for portal users, repeated here for internal users browsing the portal."""
        partner = request.env.user.partner_id
        return Domain("partner_id", "child_of", [partner.commercial_partner_id.id]) & Domain(
            "state", "!=", "draft"
        )

    def _get_billing_searchbar_sortings(self):
        return {
            "next": {"label": _("Next Invoice"), "order": "next_invoice_date, id desc"},
            "date": {"label": _("Start Date"), "order": "date_start desc, id desc"},
            "name": {"label": _("Reference"), "order": "name desc, id desc"},
        }

    def _get_billing_searchbar_filters(self):
        return {
            "all": {"label": _("All"), "domain": Domain.TRUE},
            "running": {
                "label": _("Running"),
                "domain": Domain("state", "in", ("running", "paused")),
            },
            "ended": {"label": _("Ended"), "domain": Domain("state", "in", ("done", "cancelled"))},
        }

    @http.route(
        ["/my/billing", "/my/billing/page/<int:page>"],
        type="http",
        auth="user",
        website=True,
    )
    def portal_my_billing_schedules(self, page=1, sortby=None, filterby=None, **kw):
        Schedule = request.env["crm.billing.schedule"]
        values = self._prepare_portal_layout_values()
        sortings = self._get_billing_searchbar_sortings()
        filters = self._get_billing_searchbar_filters()
        sortby = sortby if sortby in sortings else "next"
        filterby = filterby if filterby in filters else "all"
        domain = self._get_billing_schedules_domain() & filters[filterby]["domain"]
        can_read = Schedule.has_access("read")
        count = Schedule.search_count(domain) if can_read else 0
        pager = portal_pager(
            url="/my/billing",
            url_args={"sortby": sortby, "filterby": filterby},
            total=count,
            page=page,
            step=self._items_per_page,
        )
        schedules = (
            Schedule.search(
                domain,
                order=sortings[sortby]["order"],
                limit=self._items_per_page,
                offset=pager["offset"],
            )
            if can_read
            else Schedule
        )
        request.session["my_billing_history"] = schedules.ids[:100]
        values.update(
            {
                "schedules": schedules,
                "page_name": "billing_schedule",
                "pager": pager,
                "default_url": "/my/billing",
                "searchbar_sortings": sortings,
                "sortby": sortby,
                "searchbar_filters": OrderedDict(filters.items()),
                "filterby": filterby,
                "billing_overdue_invoice_count": self._get_overdue_invoice_count(),
                **self._get_billing_statement_options(),
            }
        )
        return request.render("crm_billing.portal_my_billing_schedules", values)

    def _billing_schedule_check_access(self, schedule_id, access_token=None):
        """The schedule (as superuser) when the visitor may see it in the portal.

        A valid access token opens a started schedule to whoever holds it. Without
        one, a portal user sees the started schedules of its commercial entity, as
        the record rules let it (``_document_check_access``). Drafts are the
        seller's work in progress, never shown. Internal users have the backend,
        under their own rules: :class:`BillingBackendRedirect` sends them there."""
        schedule_sudo = request.env["crm.billing.schedule"].sudo().browse(schedule_id).exists()
        if not schedule_sudo or schedule_sudo.state == "draft":
            raise MissingError(_("This document does not exist."))
        token_valid = bool(
            access_token
            and schedule_sudo.access_token
            and consteq(schedule_sudo.access_token, access_token)
        )
        user = request.env.user
        if not token_valid and not user._is_public() and not user.share:
            raise BillingBackendRedirect(f"/odoo/crm.billing.schedule/{schedule_sudo.id}")
        schedule_sudo = self._document_check_access(
            "crm.billing.schedule", schedule_id, access_token if token_valid else None
        )
        if not token_valid and (
            schedule_sudo.partner_id.commercial_partner_id != user.commercial_partner_id
        ):
            raise AccessError(_("This document is not yours."))
        return schedule_sudo

    @http.route(["/my/billing/<int:schedule_id>"], type="http", auth="public", website=True)
    def portal_my_billing_schedule(self, schedule_id, access_token=None, **kw):
        try:
            schedule_sudo = self._billing_schedule_check_access(schedule_id, access_token)
        except BillingBackendRedirect as backend:
            return request.redirect(backend.url)
        except (AccessError, MissingError):
            return request.redirect("/my")
        values = self._billing_schedule_get_page_view_values(schedule_sudo, access_token, **kw)
        return request.render("crm_billing.portal_my_billing_schedule", values)

    def _billing_schedule_invoices(self, schedule_sudo):
        """Posted invoices and credit notes of the schedule made out to its customer:
        an invoice of anyone else linked to it is never shown."""
        customer = schedule_sudo.partner_id.commercial_partner_id
        return schedule_sudo.invoice_ids.filtered(
            lambda m: (
                m.state == "posted"
                and m.move_type in ("out_invoice", "out_refund")
                and m.commercial_partner_id == customer
            )
        )

    def _billing_schedule_get_page_view_values(self, schedule_sudo, access_token, **kwargs):
        invoices = self._billing_schedule_invoices(schedule_sudo).sorted(
            lambda m: (m.invoice_date or m.date, m.id), reverse=True
        )
        payments = self._billing_schedule_payments(invoices)
        values = {
            "page_name": "billing_schedule",
            "schedule": schedule_sudo,
            "periods": schedule_sudo.period_ids.sorted("date_start", reverse=True),
            "lines": schedule_sudo.line_ids,
            "invoices": invoices,
            "payments": payments,
            "receipt_available": self._billing_receipt_report() is not None,
        }
        values.update(self._billing_payment_method_values(schedule_sudo))
        return self._get_page_view_values(
            schedule_sudo, access_token, values, "my_billing_history", False, **kwargs
        )

    def _billing_schedule_payments(self, invoices):
        """Posted payments of these invoices, newest first: those reconciled with
        them and those matched to them without a journal entry of their own."""
        if not invoices:
            return request.env["account.payment"].sudo()
        payments = invoices._get_reconciled_payments() | invoices.matched_payment_ids
        customers = invoices.commercial_partner_id
        return payments.filtered(
            lambda p: (
                p.state in ("in_process", "paid")
                and p.partner_id.commercial_partner_id in customers
            )
        ).sorted(lambda p: (p.date, p.id), reverse=True)

    def _billing_receipt_report(self):
        """The receipt report when it is installed, else None."""
        report = request.env.ref(RECEIPT_REPORT_XMLID, raise_if_not_found=False)
        return report.sudo() if report else None

    @http.route(
        ["/my/billing/<int:schedule_id>/receipt/<int:payment_id>"],
        type="http",
        auth="public",
        website=True,
    )
    def portal_my_billing_receipt(self, schedule_id, payment_id, access_token=None, **kw):
        """Download the receipt of a payment of this schedule's invoices, once access
        to the schedule is proven (record rules or its access token)."""
        try:
            schedule_sudo = self._billing_schedule_check_access(schedule_id, access_token)
        except BillingBackendRedirect:
            return request.redirect(f"/odoo/account.payment/{payment_id}")
        except (AccessError, MissingError):
            return request.redirect("/my")
        report = self._billing_receipt_report()
        invoices = self._billing_schedule_invoices(schedule_sudo)
        payment_sudo = self._billing_schedule_payments(invoices).filtered(
            lambda p: p.id == payment_id
        )
        if not report or not payment_sudo:
            raise request.not_found()
        return self._show_report(
            model=payment_sudo, report_type="pdf", report_ref=report.report_name, download=True
        )

    # --- Statements ---

    def _get_billing_statement_options(self, statement_type=None, date_from=None, date_to=None):
        """The statement asked for, from the form's values; anything unreadable falls
        back to the default (activity of the last three months until today)."""
        today = fields.Date.context_today(request.env.user)

        def to_date(value, default):
            try:
                return fields.Date.to_date(value) or default
            except (TypeError, ValueError):
                return default

        date_to = to_date(date_to, today)
        date_from = to_date(date_from, (date_to - relativedelta(months=3)).replace(day=1))
        if date_from > date_to:
            date_from, date_to = date_to, date_from
        return {
            "statement_type": (
                statement_type if statement_type in ("outstanding", "activity") else "activity"
            ),
            "statement_date_from": date_from,
            "statement_date_to": date_to,
        }

    @http.route(["/my/billing/statement"], type="http", auth="user", website=True)
    def portal_my_billing_statement(
        self,
        statement_type=None,
        date_from=None,
        date_to=None,
        report_type="pdf",
        download=False,
        **kw,
    ):
        """The statement of the logged-in customer's own commercial partner, for the
        dates asked: no partner is taken from the request."""
        options = self._get_billing_statement_options(statement_type, date_from, date_to)
        partner_sudo = request.env.user.commercial_partner_id.sudo()
        request.update_context(
            crm_billing_statement={
                "statement_type": options["statement_type"],
                "date_from": fields.Date.to_string(options["statement_date_from"]),
                "date_to": fields.Date.to_string(options["statement_date_to"]),
            }
        )
        return self._show_report(
            model=partner_sudo,
            report_type=report_type if report_type in ("pdf", "html") else "pdf",
            report_ref=STATEMENT_REPORT_XMLID,
            download=download in (True, "1", "true", "True"),
        )

    # --- Self-service ---
    # Every change goes through the schedule's billing_portal_* methods, which check
    # the record rules and the schedule's rules themselves (over JSON-RPC too).

    def _billing_self_service_page(self, schedule_id, error=None, notice=None):
        schedule_sudo = self._document_check_access("crm.billing.schedule", schedule_id)
        values = self._billing_schedule_get_page_view_values(schedule_sudo, None)
        values.update({"billing_error": error, "billing_notice": notice})
        return request.render("crm_billing.portal_my_billing_schedule", values)

    def _billing_self_service(self, schedule_id, action, notice):
        """Run ``action(schedule)`` as the logged-in customer and show the schedule
        with ``notice``, or with the refusal's message; ``action`` may return a page
        of its own instead (a preview). A refused request changes nothing (its
        savepoint is rolled back); someone else's schedule sends the visitor home,
        saying nothing of it."""
        schedule = request.env["crm.billing.schedule"].browse(schedule_id)
        try:
            with request.env.cr.savepoint():
                page = action(schedule)
        except (AccessError, MissingError):
            return request.redirect("/my")
        except (UserError, ValidationError) as error:
            return self._billing_self_service_page(schedule_id, error=error.args[0])
        return page or self._billing_self_service_page(schedule_id, notice=notice)

    def _billing_confirm_page(self, schedule, preview, action, fields):
        """The prorated amount of a change, for the customer to confirm: the form posts
        ``fields`` again to ``action`` with ``confirm``."""
        values = self._prepare_portal_layout_values()
        values.update(
            {
                "page_name": "billing_schedule",
                "schedule": schedule.sudo(),
                "preview": preview,
                "confirm_action": f"/my/billing/{schedule.id}/{action}",
                "confirm_fields": fields,
            }
        )
        return request.render("crm_billing.portal_billing_change_confirm", values)

    @http.route(
        ["/my/billing/<int:schedule_id>/change"],
        type="http",
        auth="user",
        methods=["POST"],
        website=True,
    )
    def portal_my_billing_change(
        self, schedule_id, line_id=None, quantity=None, confirm=None, **kw
    ):
        """Review, then confirm, a quantity change (0 removes the line): the prorated
        amount is shown first."""

        def change(schedule):
            try:
                line = int(line_id or 0)
            except ValueError:
                line = 0
            if not confirm:
                preview = schedule.billing_portal_preview_quantity(line, quantity)
                return self._billing_confirm_page(
                    schedule, preview, "change", {"line_id": line, "quantity": preview["quantity"]}
                )
            schedule.billing_portal_change_quantity(line, quantity)
            return None

        return self._billing_self_service(
            schedule_id, change, _("Your subscription has been changed.")
        )

    @http.route(
        ["/my/billing/<int:schedule_id>/add"],
        type="http",
        auth="user",
        methods=["POST"],
        website=True,
    )
    def portal_my_billing_add(
        self, schedule_id, product_id=None, quantity=None, confirm=None, **kw
    ):
        """Review, then confirm, adding an optional product: the prorated amount is
        shown first."""

        def add(schedule):
            if not confirm:
                preview = schedule.billing_portal_preview_add(product_id, quantity)
                return self._billing_confirm_page(
                    schedule,
                    preview,
                    "add",
                    {"product_id": product_id, "quantity": preview["quantity"]},
                )
            schedule.billing_portal_add_product(product_id, quantity)
            return None

        return self._billing_self_service(
            schedule_id, add, _("The product has been added to your subscription.")
        )

    @http.route(
        ["/my/billing/<int:schedule_id>/cancel"],
        type="http",
        auth="user",
        methods=["POST"],
        website=True,
    )
    def portal_my_billing_cancel(self, schedule_id, reason_id=None, **kw):
        return self._billing_self_service(
            schedule_id,
            lambda schedule: schedule.billing_portal_cancel(reason_id) and None,
            _("Your subscription ends with the current period."),
        )

    @http.route(
        ["/my/billing/<int:schedule_id>/reactivate"],
        type="http",
        auth="user",
        methods=["POST"],
        website=True,
    )
    def portal_my_billing_reactivate(self, schedule_id, **kw):
        return self._billing_self_service(
            schedule_id,
            lambda schedule: schedule.billing_portal_reactivate() and None,
            _("Your subscription goes on."),
        )

    @http.route(
        ["/my/billing/<int:schedule_id>/invoice_contact"],
        type="http",
        auth="user",
        methods=["POST"],
        website=True,
    )
    def portal_my_billing_invoice_contact(
        self, schedule_id, contact_id=None, email=None, name=None, **kw
    ):
        """Send the invoices to one of the customer's contacts, or to a new one."""
        return self._billing_self_service(
            schedule_id,
            lambda schedule: (
                schedule.billing_portal_set_invoice_contact(
                    contact_id=contact_id, email=email, name=name
                )
                and None
            ),
            _("Your invoices go to the new contact from now on."),
        )

    # --- Payment method ---

    def _billing_payment_tokens(self, schedule_sudo):
        """The saved payment methods that the logged-in customer may choose for this
        schedule: its own commercial partner's, in the schedule's company. Nothing
        for anyone else (an access-token visitor, another customer, a public user)."""
        Token = request.env["payment.token"].sudo()
        user = request.env.user
        if user._is_public() or (
            user.partner_id.commercial_partner_id != schedule_sudo.commercial_partner_id
        ):
            return Token
        return Token.search(
            [
                ("partner_id", "child_of", schedule_sudo.commercial_partner_id.id),
                ("company_id", "parent_of", schedule_sudo.company_id.id),
            ]
        )

    def _billing_payment_method_values(self, schedule_sudo):
        tokens = self._billing_payment_tokens(schedule_sudo)
        return {
            "billing_payment_tokens": tokens,
            "billing_payment_token": schedule_sudo.payment_token_id,
            "billing_can_choose_token": bool(tokens)
            or request.env.user.partner_id.commercial_partner_id
            == schedule_sudo.commercial_partner_id,
        }

    @http.route(
        ["/my/billing/<int:schedule_id>/payment_method"],
        type="http",
        auth="user",
        methods=["POST"],
        website=True,
    )
    def portal_my_billing_payment_method(self, schedule_id, token_id=None, **kw):
        """Pay this schedule's invoices automatically with one of the customer's own
        saved payment methods (or stop: an empty ``token_id``)."""
        try:
            schedule_sudo = self._document_check_access("crm.billing.schedule", schedule_id)
        except (AccessError, MissingError):
            return request.redirect("/my")
        tokens = self._billing_payment_tokens(schedule_sudo)
        if request.env.user.partner_id.commercial_partner_id != schedule_sudo.commercial_partner_id:
            return request.redirect("/my")
        token = tokens.filtered(lambda t: str(t.id) == (token_id or "")) if token_id else tokens[:0]
        if token_id and not token:
            # not one of the customer's own payment methods: refuse, change nothing
            return request.redirect(f"/my/billing/{schedule_id}?payment_method=refused")
        schedule_sudo.payment_token_id = token
        schedule_sudo.message_post(
            body=_("Payment method chosen by the customer: %s", token.display_name)
            if token
            else _("The customer stopped automatic payment."),
            author_id=request.env.user.partner_id.id,
        )
        return request.redirect(f"/my/billing/{schedule_id}?payment_method=saved")
