# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError


class CrmBillingSchedule(models.Model):
    """Customers serving themselves in the portal, within the schedule's rules.

    The ``billing_portal_*`` methods are what the portal pages call, and what a
    portal user could call over JSON-RPC: each checks that the caller may read the
    schedule (the portal record rules), then the schedule's rules, and only then
    acts, as superuser, through the same methods as the backend (the change and
    closing wizards), recording the customer as the author."""

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
    portal_cancel_allowed = fields.Boolean(
        string="Customers Cancel",
        help="The customer may cancel at the end of the current period (with a reason), "
        "and reactivate until that day.",
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

    # --- Rules ---

    def _billing_portal_check(self):
        """The caller may see this schedule (record rules, as over the portal)."""
        self.ensure_one()
        self.check_access("read")
        return self.sudo()

    def _billing_portal_line(self, line_id, quantity):
        """Check a quantity change against the schedule's rules; return the line."""
        self.ensure_one()
        if not self.portal_change_allowed or self.state != "running" or self.close_reason_id:
            raise UserError(_("The quantities of %s cannot be changed online.", self.name))
        line = self.line_ids.filtered(lambda line: line.id == line_id)
        if not line:
            raise UserError(_("This line is not part of %s.", self.name))
        try:
            quantity = float(quantity)
        except (TypeError, ValueError):
            raise UserError(_("Please enter a quantity.")) from None
        low, high = self.portal_quantity_min, self.portal_quantity_max
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
        if quantity == line.quantity:
            raise UserError(_("The quantity is already %s.", f"{quantity:g}"))
        return line, quantity

    # --- What the portal calls ---

    def billing_portal_preview_quantity(self, line_id, quantity):
        """What changing a line's quantity today would invoice or credit now, and add to
        the next invoice (untaxed), before the customer confirms."""
        schedule = self._billing_portal_check()
        line, quantity = schedule._billing_portal_line(line_id, quantity)
        today = fields.Date.context_today(self)
        now, later = schedule._billing_change_preview(today, [{"line": line, "quantity": quantity}])
        return {
            "line": line.name,
            "old_quantity": line.quantity,
            "quantity": quantity,
            "amount_now": now,
            "amount_next": later,
            "new_amount": schedule._billing_line_subtotal(quantity, line.price_unit, line.discount),
            "currency_id": schedule.currency_id.id,
        }

    def billing_portal_change_quantity(self, line_id, quantity):
        """Change a line's quantity from today, as the customer."""
        schedule = self._billing_portal_check()
        line, quantity = schedule._billing_portal_line(line_id, quantity)
        today = fields.Date.context_today(self)
        changes = schedule._apply_billing_changes(
            today, [{"line": line, "quantity": quantity}], source="portal"
        )
        return changes.ids

    def billing_portal_cancel(self, reason_id):
        """Cancel at the end of the current period, as the customer."""
        schedule = self._billing_portal_check()
        if not schedule.portal_cancel_allowed or schedule.state != "running":
            raise UserError(_("%s cannot be cancelled online.", schedule.name))
        if schedule.close_reason_id:
            raise UserError(_("%s is already cancelled.", schedule.name))
        reason = self.env["crm.billing.close.reason"].sudo().browse(int(reason_id or 0)).exists()
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
