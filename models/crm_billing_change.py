# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import _, api, fields, models
from odoo.tools import format_date


class CrmBillingChange(models.Model):
    """One change of one schedule line, kept as history.

    Written only by ``crm.billing.schedule._apply_billing_changes`` (the change
    wizard, the closing wizard and the portal all go through it): nobody edits
    history. It says who changed what, from what to what, from which day, and how
    the days already invoiced were set right: ``move_id`` is the prorated invoice
    or credit note made at once, ``next_invoice_amount`` what the invoice of the
    period starting ``next_invoice_period_start`` adds (or deducts) for it."""

    _name = "crm.billing.change"
    _description = "Billing Schedule Change"
    _order = "date desc, id desc"
    _check_company_auto = True

    schedule_id = fields.Many2one(
        "crm.billing.schedule", required=True, ondelete="cascade", index=True, readonly=True
    )
    company_id = fields.Many2one(related="schedule_id.company_id", store=True, index=True)
    partner_id = fields.Many2one(related="schedule_id.partner_id", store=True, index=True)
    currency_id = fields.Many2one(related="schedule_id.currency_id")
    line_id = fields.Many2one(
        "crm.billing.schedule.line",
        string="Schedule Line",
        required=True,
        ondelete="cascade",
        index=True,
        readonly=True,
    )
    product_id = fields.Many2one("product.product", readonly=True)
    name = fields.Char(string="Description", readonly=True)
    date = fields.Date(string="Effective Date", required=True, readonly=True, index=True)
    user_id = fields.Many2one(
        "res.users", string="Changed By", readonly=True, default=lambda self: self.env.user
    )
    source = fields.Selection(
        [("backend", "Backend"), ("portal", "Customer Portal"), ("renewal", "Renewal")],
        default="backend",
        required=True,
        readonly=True,
    )
    old_quantity = fields.Float(digits="Product Unit", readonly=True)
    new_quantity = fields.Float(digits="Product Unit", readonly=True)
    old_price_unit = fields.Float(string="Old Unit Price", digits="Product Price", readonly=True)
    new_price_unit = fields.Float(string="New Unit Price", digits="Product Price", readonly=True)
    old_discount = fields.Float(string="Old Discount (%)", digits="Discount", readonly=True)
    new_discount = fields.Float(string="New Discount (%)", digits="Discount", readonly=True)
    old_subtotal = fields.Monetary(
        string="Old Amount per Period", readonly=True, help="Untaxed, before the change."
    )
    new_subtotal = fields.Monetary(
        string="New Amount per Period", readonly=True, help="Untaxed, from the change on."
    )
    change_type = fields.Selection(
        [
            ("new", "New Line"),
            ("upgrade", "Upgrade"),
            ("downgrade", "Downgrade"),
            ("removal", "Removal"),
            ("none", "No Amount Change"),
        ],
        compute="_compute_change_type",
        store=True,
    )
    amount = fields.Monetary(
        string="Prorated Amount",
        readonly=True,
        help="Untaxed amount invoiced (positive) or credited (negative) at once for the "
        "days already invoiced from the effective date on.",
    )
    move_id = fields.Many2one(
        "account.move",
        string="Prorated Invoice / Credit Note",
        readonly=True,
        index="btree_not_null",
    )
    next_invoice_amount = fields.Monetary(
        readonly=True,
        help="Untaxed amount that the invoice of the period starting on "
        "'Next Invoice Period' adds (positive) or deducts (negative) for this change.",
    )
    next_invoice_period_start = fields.Date(string="Next Invoice Period", readonly=True)
    next_invoice_id = fields.Many2one(
        "account.move",
        string="Carried by Invoice",
        compute="_compute_next_invoice_id",
        help="The invoice that carries the amount left for the next invoice, once made.",
    )

    @api.depends("old_subtotal", "new_subtotal", "old_quantity", "new_quantity")
    def _compute_change_type(self):
        for change in self:
            currency = change.currency_id or change.env.company.currency_id
            delta = currency.compare_amounts(change.new_subtotal, change.old_subtotal)
            if not change.old_quantity and change.new_quantity:
                change.change_type = "new"
            elif change.old_quantity and not change.new_quantity:
                change.change_type = "removal"
            elif delta > 0:
                change.change_type = "upgrade"
            elif delta < 0:
                change.change_type = "downgrade"
            else:
                change.change_type = "none"

    def _compute_next_invoice_id(self):
        for change in self:
            period = change.next_invoice_period_start and change.schedule_id.period_ids.filtered(
                lambda p, day=change.next_invoice_period_start: p.date_start == day
            )
            change.next_invoice_id = period and period[:1].invoice_id

    def _prepare_next_invoice_line_vals(self):
        """The line that the next invoice carries for this change."""
        self.ensure_one()
        currency = self.currency_id
        return {
            "display_type": "product",
            "name": _(
                "%(name)s: change of %(date)s (%(old)s → %(new)s a period), prorated",
                name=self.name,
                date=format_date(self.env, self.date),
                old=currency.format(self.old_subtotal),
                new=currency.format(self.new_subtotal),
            ),
            "product_id": self.product_id.id,
            "quantity": 1.0,
            "price_unit": self.next_invoice_amount,
            "tax_ids": [fields.Command.set(self.line_id.tax_ids.ids)],
        }
