# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError


class CrmBillingScheduleLine(models.Model):
    _name = "crm.billing.schedule.line"
    _description = "Billing Schedule Line"
    _order = "schedule_id, date, sequence, id"
    _check_company_auto = True

    schedule_id = fields.Many2one(
        "crm.billing.schedule", required=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="schedule_id.company_id", store=True, index=True)
    currency_id = fields.Many2one(related="schedule_id.currency_id")
    schedule_type = fields.Selection(related="schedule_id.schedule_type")
    sequence = fields.Integer(default=10)
    product_id = fields.Many2one(
        "product.product",
        check_company=True,
        domain="[('sale_ok', '=', True)]",
    )
    name = fields.Text(string="Description", required=True)
    quantity = fields.Float(default=1.0, digits="Product Unit", required=True)
    price_unit = fields.Float(string="Unit Price", digits="Product Price", required=True)
    discount = fields.Float(string="Discount (%)", digits="Discount")
    tax_ids = fields.Many2many(
        "account.tax",
        string="Taxes",
        check_company=True,
        domain="[('type_tax_use', '=', 'sale')]",
    )
    sale_line_id = fields.Many2one(
        "sale.order.line", string="Sales Order Line", index="btree_not_null", copy=False
    )
    date = fields.Date(
        string="Due for Invoicing", help="Instalments: the day this instalment is invoiced."
    )
    percent = fields.Float(
        string="Share (%)", digits=(16, 4), help="Instalments: share of the order total."
    )
    amount = fields.Monetary(
        help="Instalments: amount of this instalment. In a plan made from a sales order it is "
        "taxes included, a share of the order total that the order invoices itself.",
    )
    invoice_id = fields.Many2one("account.move", readonly=True, copy=False)
    price_subtotal = fields.Monetary(
        string="Subtotal", compute="_compute_price_subtotal", store=True
    )

    _quantity_positive = models.Constraint(
        "CHECK(quantity >= 0)", "A schedule line cannot have a negative quantity."
    )
    _percent_range = models.Constraint(
        "CHECK(percent >= 0 AND percent <= 100)", "A share is between 0 and 100%."
    )

    @api.depends("quantity", "price_unit", "discount", "currency_id")
    def _compute_price_subtotal(self):
        for line in self:
            subtotal = line.quantity * line.price_unit * (1 - (line.discount or 0.0) / 100.0)
            line.price_subtotal = line.currency_id.round(subtotal) if line.currency_id else subtotal

    @api.onchange("product_id")
    def _onchange_product_id(self):
        product = self.product_id
        if not product:
            return
        partner = self.schedule_id.partner_id
        self.name = product.with_context(lang=partner.lang).get_product_multiline_description_sale()
        self.price_unit = product.lst_price
        self.tax_ids = product.taxes_id._filter_taxes_by_company(
            self.schedule_id.company_id or self.env.company
        )

    # --- Invoiced lines are history ---

    #: what an invoiced line billed: it can no longer change
    _FROZEN_WHEN_INVOICED = (
        "schedule_id",
        "product_id",
        "quantity",
        "price_unit",
        "discount",
        "tax_ids",
        "date",
        "percent",
        "amount",
        "sale_line_id",
    )

    @api.model_create_multi
    def create(self, vals_list):
        lines = super().create(vals_list)
        lines._check_date_not_invoiced()
        return lines

    def write(self, vals):
        if "invoice_id" in vals and not self.env.su:
            raise UserError(_("The invoice of a schedule line is set by the billing run only."))
        frozen = [name for name in self._FROZEN_WHEN_INVOICED if name in vals]
        if frozen:
            for line in self.filtered("invoice_id"):
                for name in frozen:
                    field = self._fields[name]
                    new = field.convert_to_record(field.convert_to_cache(vals[name], line), line)
                    if line[name] != new:
                        raise UserError(
                            _(
                                "Line %(line)s of schedule %(schedule)s is invoiced "
                                "(%(invoice)s): its %(field)s can no longer change.",
                                line=line.name,
                                schedule=line.schedule_id.name,
                                invoice=line.invoice_id.sudo().display_name,
                                field=field.string,
                            )
                        )
        result = super().write(vals)
        if "date" in vals:
            self._check_date_not_invoiced()
        return result

    @api.ondelete(at_uninstall=False)
    def _unlink_except_invoiced(self):
        invoiced = self.filtered("invoice_id")
        if invoiced:
            raise UserError(
                _(
                    "Line %(line)s of schedule %(schedule)s is invoiced: it cannot be deleted.",
                    line=invoiced[0].name,
                    schedule=invoiced[0].schedule_id.name,
                )
            )

    def _check_date_not_invoiced(self):
        """An instalment not yet invoiced cannot fall on the day of one already
        invoiced: that day's period is taken, and the instalment would be skipped."""
        for line in self.filtered(lambda line: line.date and not line.invoice_id):
            if line.date in line.schedule_id.sudo().period_ids.mapped("date_start"):
                raise ValidationError(
                    _(
                        "Schedule %(schedule)s already invoiced its instalment of %(date)s: "
                        "give instalment %(line)s another day.",
                        schedule=line.schedule_id.name,
                        date=line.date,
                        line=line.name,
                    )
                )

    @api.constrains("sale_line_id", "schedule_id")
    def _check_sale_line_billed_once(self):
        """An order line is billed by one open recurring schedule at a time."""
        lines = self.filtered(
            lambda line: (
                line.sale_line_id
                and line.schedule_id.schedule_type == "recurring"
                and line.schedule_id.state not in ("done", "cancelled")
            )
        )
        if not lines:
            return
        others = (
            self.sudo()
            .search(
                [
                    ("sale_line_id", "in", lines.sale_line_id.ids),
                    ("schedule_id.schedule_type", "=", "recurring"),
                    ("schedule_id.state", "not in", ("done", "cancelled")),
                    ("id", "not in", lines.ids),
                ]
            )
            .grouped("sale_line_id")
        )
        for line in lines:
            other = others.get(line.sale_line_id.sudo())
            if other and other.schedule_id - line.schedule_id:
                raise ValidationError(
                    _(
                        "Order line %(line)s is already billed by recurring schedule "
                        "%(schedule)s: cancel that schedule before billing the line again.",
                        line=line.sale_line_id.sudo().display_name,
                        schedule=(other.schedule_id - line.schedule_id)[0].name,
                    )
                )

    @api.constrains("discount")
    def _check_discount(self):
        for line in self:
            if not 0 <= line.discount <= 100:
                raise ValidationError(_("A discount is between 0 and 100%% (line %s).", line.name))

    def _prepare_invoice_line_vals(self, period):
        """Values of the invoice line of this schedule line for one period; the
        description says which period it covers and prorated periods are invoiced
        for the days they cover."""
        self.ensure_one()
        schedule = self.schedule_id
        price_unit = self.price_unit
        name = self.name
        if schedule.schedule_type == "recurring":
            lang = schedule.partner_id.lang or self.env.lang
            date_format = self.env["res.lang"]._get_data(code=lang).date_format or "%m/%d/%Y"
            name = _(
                "%(name)s\nPeriod: %(start)s to %(end)s",
                name=self.name,
                start=period.date_start.strftime(date_format),
                end=period.date_end.strftime(date_format),
            )
            if period.factor != 1:
                covered = (period.date_end - period.date_start).days + 1
                price_unit = schedule.currency_id.round(price_unit * float(period.factor))
                name += _(
                    " (prorated: %(covered)s of %(total)s days)",
                    covered=covered,
                    total=round(covered / period.factor),
                )
        vals = {
            "display_type": "product",
            "name": name,
            "product_id": self.product_id.id,
            "quantity": self.quantity,
            "price_unit": price_unit,
            "discount": self.discount,
            "tax_ids": [fields.Command.set(self.tax_ids.ids)],
        }
        if self.sale_line_id:
            vals["sale_line_ids"] = [fields.Command.link(self.sale_line_id.id)]
        return vals
