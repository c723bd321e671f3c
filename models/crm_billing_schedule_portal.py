# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools.mail import email_normalize


class CrmBillingSchedule(models.Model):
    """Customers serving themselves in the portal, within the schedule's rules.

    The ``billing_portal_*`` methods are what the portal pages call, and what a
    portal user could call over JSON-RPC: each checks that the caller may read the
    schedule (the portal record rules), then the schedule's rules (and its
    products' rules: the stricter applies), and only then acts, as superuser,
    through the same methods as the backend (the change and closing wizards),
    recording the customer as the author."""

    _inherit = "crm.billing.schedule"

    portal_change_allowed = fields.Boolean(
        string="Customers Change Quantities",
        help="The customer may change the quantities of this schedule's lines in the "
        "portal, within the range below; the change is prorated like any other.",
    )
    portal_quantity_min = fields.Float(string="Lowest Quantity", default=1.0, digits="Product Unit")
    portal_quantity_max = fields.Float(
        string="Highest Quantity", digits="Product Unit", help="0: no maximum."
    )
    portal_add_allowed = fields.Boolean(
        string="Customers Add Optional Products",
        help="The customer may add, in the portal, the products that allow it (Sales tab "
        "of the product); the addition is prorated like any other change.",
    )
    portal_remove_allowed = fields.Boolean(
        string="Customers Remove Lines",
        help="The customer may remove a line in the portal when its product allows it "
        "too; the unused days are credited like any other change.",
    )
    portal_cancel_allowed = fields.Boolean(
        string="Customers Cancel",
        help="The customer may cancel at the end of the current period (with a reason), "
        "and reactivate until that day.",
    )
    partner_invoice_id = fields.Many2one(
        "res.partner",
        string="Invoice Contact",
        tracking=True,
        domain="[('commercial_partner_id', '=', commercial_partner_id)]",
        help="The contact the invoices are made out and sent to, one of the customer's. "
        "Empty: the customer itself.",
    )

    @api.constrains("portal_quantity_min", "portal_quantity_max")
    def _check_portal_quantity_range(self):
        for schedule in self:
            if schedule.portal_quantity_min < 0 or (
                schedule.portal_quantity_max
                and schedule.portal_quantity_max < schedule.portal_quantity_min
            ):
                raise ValidationError(
                    _(
                        "Schedule %s: the customers' quantity range goes from 0 or more up to "
                        "a highest quantity not below the lowest.",
                        schedule.name,
                    )
                )

    @api.constrains("partner_id", "partner_invoice_id")
    def _check_partner_invoice_id(self):
        for schedule in self.filtered("partner_invoice_id"):
            customer = schedule.partner_id.commercial_partner_id
            if schedule.partner_invoice_id.commercial_partner_id != customer:
                raise ValidationError(
                    _(
                        "Schedule %(name)s: %(contact)s is not a contact of %(customer)s.",
                        name=schedule.name,
                        contact=schedule.partner_invoice_id.display_name,
                        customer=customer.display_name,
                    )
                )

    # --- Rules ---

    def _billing_portal_check(self):
        """The caller may see this schedule (record rules, as over the portal)."""
        self.ensure_one()
        self.check_access("read")
        return self.sudo()

    def _billing_portal_check_changeable(self):
        self.ensure_one()
        if self.state != "running" or self.close_reason_id:
            raise UserError(_("%s cannot be changed online.", self.name))

    def _billing_portal_quantity_range(self, product):
        """The quantities a customer may choose for ``product`` on this schedule:
        ``(lowest, highest)``, highest 0 for no limit. The stricter of the schedule's
        and the product's ranges applies."""
        self.ensure_one()
        template = product.product_tmpl_id
        low = max(self.portal_quantity_min, template.billing_portal_quantity_min)
        highs = [h for h in (self.portal_quantity_max, template.billing_portal_quantity_max) if h]
        return low, min(highs) if highs else 0.0

    def _billing_portal_quantity(self, product, quantity):
        """Check a quantity asked for ``product`` against the rules; return it as a
        number. 0 removes, when both the schedule and the product allow it."""
        self.ensure_one()
        try:
            quantity = float(quantity)
        except (TypeError, ValueError):
            raise UserError(_("Please enter a quantity.")) from None
        if quantity == 0:
            if not (self.portal_remove_allowed and product.product_tmpl_id.billing_portal_remove):
                raise UserError(_("%s cannot be removed online.", product.display_name))
            return quantity
        low, high = self._billing_portal_quantity_range(product)
        if quantity < low or (high and quantity > high):
            raise UserError(
                _(
                    "The quantity must be between %(low)s and %(high)s.",
                    low=f"{low:g}",
                    high=f"{high:g}",
                )
                if high
                else _("The quantity must be at least %s.", f"{low:g}")
            )
        return quantity

    def _billing_portal_line(self, line_id, quantity):
        """Check a quantity change against the rules; return the line and quantity."""
        self.ensure_one()
        if (
            self.state != "running"
            or self.close_reason_id
            or not (self.portal_change_allowed or self.portal_remove_allowed)
        ):
            raise UserError(_("The quantities of %s cannot be changed online.", self.name))
        line = self.line_ids.filtered(lambda line: line.id == line_id and line.quantity)
        if not line:
            raise UserError(_("This line is not part of %s.", self.name))
        quantity = self._billing_portal_quantity(line.product_id, quantity)
        if quantity and not self.portal_change_allowed:
            raise UserError(_("The quantities of %s cannot be changed online.", self.name))
        if quantity == line.quantity:
            raise UserError(_("The quantity is already %s.", f"{quantity:g}"))
        return line, quantity

    def _billing_portal_optional_products(self):
        """The products a customer may add to this schedule: those that allow it, on
        sale, of the schedule's company, and not on the schedule already."""
        self.ensure_one()
        Product = self.env["product.product"].sudo().with_company(self.company_id)
        if not self.portal_add_allowed:
            return Product
        products = Product.search(
            [
                ("product_tmpl_id.billing_portal_add", "=", True),
                ("sale_ok", "=", True),
                ("company_id", "in", (False, self.company_id.id)),
            ]
        )
        return products - self.line_ids.filtered("quantity").product_id

    def _billing_portal_addition(self, product_id, quantity):
        """Check an addition against the rules; return it as a change for
        ``_apply_billing_changes``."""
        self.ensure_one()
        self._billing_portal_check_changeable()
        if not self.portal_add_allowed:
            raise UserError(_("No product can be added to %s online.", self.name))
        try:
            product_id = int(product_id or 0)
        except (TypeError, ValueError):
            product_id = 0
        product = self._billing_portal_optional_products().filtered(lambda p: p.id == product_id)
        if not product:
            raise UserError(_("This product cannot be added to %s online.", self.name))
        quantity = self._billing_portal_quantity(product, quantity)
        if not quantity:
            raise UserError(_("Please enter a quantity."))
        price_unit = self._billing_portal_price(product)
        removed = self.line_ids.filtered(lambda line: line.product_id == product)[:1]
        if removed:
            # a product removed earlier comes back on its own line, with its history
            return {"line": removed, "quantity": quantity, "price_unit": price_unit}
        taxes = product.taxes_id.filtered(lambda t: t.company_id in self.company_id.parent_ids)
        if self.fiscal_position_id:
            taxes = self.fiscal_position_id.map_tax(taxes)
        lang = self.partner_id.lang or self.env.lang
        return {
            "product_id": product.id,
            "name": product.with_context(lang=lang).get_product_multiline_description_sale(),
            "tax_ids": taxes.ids,
            "quantity": quantity,
            "price_unit": price_unit,
            "discount": 0.0,
        }

    def _billing_portal_price(self, product):
        """The unit price of an optional product: the customer's pricelist's when it
        is in the schedule's currency, else the product's sales price (converted to
        the schedule's currency)."""
        self.ensure_one()
        pricelist = (
            self.partner_id.commercial_partner_id.with_company(self.company_id)
            .sudo()
            .property_product_pricelist
        )
        if pricelist and pricelist.currency_id == self.currency_id:
            return pricelist._get_product_price(product, 1.0, currency=self.currency_id)
        product = product.with_company(self.company_id)
        return product.currency_id._convert(
            product.lst_price,
            self.currency_id,
            self.company_id,
            fields.Date.context_today(self),
            round=False,
        )

    def _billing_portal_preview(self, change):
        """What ``change`` would invoice or credit now and add to the next invoice
        (untaxed), and the line's new amount per period."""
        self.ensure_one()
        line = change.get("line") or self.env["crm.billing.schedule.line"]
        now, later = self._billing_change_preview(fields.Date.context_today(self), [change])
        return {
            "line": line.name or change.get("name"),
            "old_quantity": line.quantity,
            "quantity": change["quantity"],
            "amount_now": now,
            "amount_next": later,
            "new_amount": self._billing_line_subtotal(
                change["quantity"],
                change.get("price_unit", line.price_unit),
                change.get("discount", line.discount),
            ),
            "currency_id": self.currency_id.id,
        }

    # --- What the portal calls ---

    def billing_portal_preview_quantity(self, line_id, quantity):
        """What changing a line's quantity today would invoice or credit now, and add to
        the next invoice (untaxed), before the customer confirms."""
        schedule = self._billing_portal_check()
        line, quantity = schedule._billing_portal_line(line_id, quantity)
        return schedule._billing_portal_preview({"line": line, "quantity": quantity})

    def billing_portal_change_quantity(self, line_id, quantity):
        """Change a line's quantity from today, as the customer (0 removes it)."""
        schedule = self._billing_portal_check()
        line, quantity = schedule._billing_portal_line(line_id, quantity)
        today = fields.Date.context_today(self)
        changes = schedule._apply_billing_changes(
            today, [{"line": line, "quantity": quantity}], source="portal"
        )
        return changes.ids

    def billing_portal_preview_add(self, product_id, quantity):
        """What adding an optional product today would invoice now and add to the next
        invoice (untaxed), before the customer confirms."""
        schedule = self._billing_portal_check()
        return schedule._billing_portal_preview(
            schedule._billing_portal_addition(product_id, quantity)
        )

    def billing_portal_add_product(self, product_id, quantity):
        """Add an optional product from today, as the customer."""
        schedule = self._billing_portal_check()
        change = schedule._billing_portal_addition(product_id, quantity)
        today = fields.Date.context_today(self)
        return schedule._apply_billing_changes(today, [change], source="portal").ids

    def billing_portal_optional_products(self):
        """The optional products the customer may add now: a list of dicts (``id``,
        ``name``, ``price_unit``, ``quantity_min``, ``quantity_max``)."""
        schedule = self._billing_portal_check()
        if schedule.state != "running" or schedule.close_reason_id:
            return []
        result = []
        for product in schedule._billing_portal_optional_products():
            low, high = schedule._billing_portal_quantity_range(product)
            result.append(
                {
                    "id": product.id,
                    "name": product.display_name,
                    "price_unit": schedule._billing_portal_price(product),
                    "quantity_min": low,
                    "quantity_max": high,
                }
            )
        return result

    def billing_portal_invoice_contacts(self):
        """The customer's contacts that may receive this schedule's invoices."""
        schedule = self._billing_portal_check()
        return (
            self.env["res.partner"]
            .sudo()
            .search(
                [
                    ("commercial_partner_id", "=", schedule.commercial_partner_id.id),
                    ("type", "in", ("contact", "invoice")),
                ],
                order="name, id",
            )
        )

    def billing_portal_set_invoice_contact(self, contact_id=None, email=None, name=None):
        """Send this schedule's invoices to one of the customer's contacts (with a new
        email if given), or to a new contact made under the customer, as the
        customer. Returns the contact's id."""
        schedule = self._billing_portal_check()
        if schedule.state not in ("running", "paused"):
            raise UserError(_("%s has ended.", schedule.name))
        customer = schedule.commercial_partner_id
        email = (email or "").strip()
        if email and not email_normalize(email):
            raise UserError(_("%s is not a valid email address.", email))
        try:
            contact_id = int(contact_id or 0)
        except (TypeError, ValueError):
            contact_id = -1
        if contact_id:
            contact = schedule.billing_portal_invoice_contacts().filtered(
                lambda p: p.id == contact_id
            )
            if not contact:
                raise UserError(_("This contact is not one of %s's.", customer.name))
        else:
            name = (name or "").strip()
            if not name or not email:
                raise UserError(_("A new invoice contact needs a name and an email address."))
            contact = (
                self.env["res.partner"]
                .sudo()
                .create({"name": name, "email": email, "type": "invoice", "parent_id": customer.id})
            )
        if email and contact.email != email:
            contact.email = email
        if not contact.email:
            raise UserError(_("%s has no email address: please give one.", contact.name))
        schedule.partner_invoice_id = contact
        schedule.message_post(
            body=_(
                "%(who)s sends the invoices to %(contact)s (%(email)s).",
                who=self.env.user.partner_id.name,
                contact=contact.name,
                email=contact.email,
            ),
            author_id=self.env.user.partner_id.id,
            message_type="comment",
            subtype_xmlid="mail.mt_note",
        )
        return contact.id

    def billing_portal_cancel(self, reason_id):
        """Cancel at the end of the current period, as the customer."""
        schedule = self._billing_portal_check()
        if not schedule.portal_cancel_allowed or schedule.state != "running":
            raise UserError(_("%s cannot be cancelled online.", schedule.name))
        if schedule.close_reason_id:
            raise UserError(_("%s is already cancelled.", schedule.name))
        try:
            reason_id = int(reason_id or 0)
        except (TypeError, ValueError):
            reason_id = 0
        reason = self.env["crm.billing.close.reason"].sudo().browse(reason_id).exists()
        if not reason or not reason.active or not reason.portal_visible:
            raise UserError(_("Please choose why you cancel."))
        schedule._billing_close(reason, when="period_end")
        return True

    def billing_portal_reactivate(self):
        """Undo a cancellation before it takes effect, as the customer."""
        schedule = self._billing_portal_check()
        if not schedule.portal_cancel_allowed or not schedule.is_closing:
            raise UserError(_("%s cannot be reactivated online.", schedule.name))
        schedule.action_billing_reactivate()
        return True

    def billing_portal_close_reasons(self):
        """The reasons a customer may give when cancelling."""
        return self.env["crm.billing.close.reason"].sudo().search([("portal_visible", "=", True)])

    # --- Invoice contact ---

    def _billing_invoice_partner(self):
        self.ensure_one()
        return self.partner_invoice_id or self.partner_id

    def _prepare_invoice_vals(self, period):
        vals = super()._prepare_invoice_vals(period)
        vals["partner_id"] = self._billing_invoice_partner().id
        return vals

    def _prepare_billing_change_move_vals(self, sign, line_vals):
        vals = super()._prepare_billing_change_move_vals(sign, line_vals)
        vals["partner_id"] = self._billing_invoice_partner().id
        return vals
