# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import Command, _, api, fields, models
from odoo.exceptions import UserError, ValidationError


class CrmBillingChangeWizard(models.TransientModel):
    """Change a running schedule from a date: quantities, prices, discounts, new
    lines; a quantity of 0 removes a line. Shows what the change invoices or
    credits before it is applied."""

    _name = "crm.billing.change.wizard"
    _description = "Change a Billing Schedule"
    _check_company_auto = True

    schedule_id = fields.Many2one("crm.billing.schedule", required=True, ondelete="cascade")
    company_id = fields.Many2one(related="schedule_id.company_id")
    currency_id = fields.Many2one(related="schedule_id.currency_id")
    date = fields.Date(string="Effective Date", required=True, default=fields.Date.context_today)
    correct_invoiced = fields.Boolean(
        string="Correct Issued Invoices",
        help="For a change dated before the last invoiced period: make the invoice or "
        "credit note that sets every period invoiced since then right.",
    )
    line_ids = fields.One2many("crm.billing.change.wizard.line", "wizard_id", string="Lines")
    amount_now = fields.Monetary(
        string="Prorated Now",
        compute="_compute_preview",
        help="Untaxed: invoiced at once (positive) or credited (negative).",
    )
    amount_next = fields.Monetary(
        string="On the Next Invoice", compute="_compute_preview", help="Untaxed."
    )
    preview_error = fields.Char(compute="_compute_preview")

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        schedule = self.env["crm.billing.schedule"].browse(values.get("schedule_id"))
        if schedule and "line_ids" in fields_list and not values.get("line_ids"):
            values["line_ids"] = [
                Command.create(
                    {
                        "line_id": line.id,
                        "product_id": line.product_id.id,
                        "name": line.name,
                        "quantity": line.quantity,
                        "price_unit": line.price_unit,
                        "discount": line.discount,
                    }
                )
                for line in schedule.line_ids
            ]
        return values

    def _get_changes(self):
        """The wizard's lines as changes for ``_apply_billing_changes``."""
        self.ensure_one()
        changes = []
        for wizard_line in self.line_ids:
            line = wizard_line.line_id
            if line and (
                line.quantity,
                line.price_unit,
                line.discount,
            ) == (wizard_line.quantity, wizard_line.price_unit, wizard_line.discount):
                continue
            changes.append(
                {
                    "line": line,
                    "product_id": wizard_line.product_id.id,
                    "name": wizard_line.name,
                    "tax_ids": wizard_line.tax_ids.ids,
                    "quantity": wizard_line.quantity,
                    "price_unit": wizard_line.price_unit,
                    "discount": wizard_line.discount,
                }
            )
        return changes

    @api.depends(
        "schedule_id",
        "date",
        "correct_invoiced",
        "line_ids.quantity",
        "line_ids.price_unit",
        "line_ids.discount",
        "line_ids.product_id",
    )
    def _compute_preview(self):
        for wizard in self:
            wizard.amount_now = wizard.amount_next = 0.0
            wizard.preview_error = False
            changes = wizard._get_changes()
            if not (wizard.schedule_id and wizard.date and changes):
                continue
            try:
                wizard.amount_now, wizard.amount_next = wizard.schedule_id._origin.with_context(
                    active_test=False
                )._billing_change_preview(
                    wizard.date, changes, correct_invoiced=wizard.correct_invoiced
                )
            except (UserError, ValidationError) as error:
                wizard.preview_error = error.args[0]

    def action_apply(self):
        self.ensure_one()
        changes = self._get_changes()
        if not changes:
            raise UserError(_("Nothing changes: give the lines new quantities or prices."))
        records = self.schedule_id._apply_billing_changes(
            self.date, changes, correct_invoiced=self.correct_invoiced
        )
        moves = records.move_id
        if moves and moves.has_access("read"):
            return {
                "type": "ir.actions.act_window",
                "res_model": "account.move",
                "res_id": moves[:1].id,
                "view_mode": "form",
                "target": "current",
            }
        return {"type": "ir.actions.act_window_close"}


class CrmBillingChangeWizardLine(models.TransientModel):
    _name = "crm.billing.change.wizard.line"
    _description = "Change a Billing Schedule: Line"

    wizard_id = fields.Many2one("crm.billing.change.wizard", required=True, ondelete="cascade")
    line_id = fields.Many2one("crm.billing.schedule.line", string="Schedule Line")
    product_id = fields.Many2one("product.product", domain="[('sale_ok', '=', True)]")
    name = fields.Text(string="Description")
    old_quantity = fields.Float(related="line_id.quantity", string="Current Quantity")
    quantity = fields.Float(digits="Product Unit", default=1.0)
    price_unit = fields.Float(string="Unit Price", digits="Product Price")
    discount = fields.Float(string="Discount (%)", digits="Discount")
    tax_ids = fields.Many2many(
        "account.tax", string="Taxes", domain="[('type_tax_use', '=', 'sale')]"
    )

    @api.onchange("product_id")
    def _onchange_product_id(self):
        if self.line_id or not self.product_id:
            return
        schedule = self.wizard_id.schedule_id
        self.name = self.product_id.with_context(
            lang=schedule.partner_id.lang
        ).get_product_multiline_description_sale()
        self.price_unit = self.product_id.lst_price
        self.tax_ids = self.product_id.taxes_id._filter_taxes_by_company(
            schedule.company_id or self.env.company
        )
