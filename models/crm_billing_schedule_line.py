# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import float_round
from odoo.tools.misc import format_date, formatLang

from . import billing_usage_math as usage_math


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
    quantity_source = fields.Selection(
        [
            ("fixed", "Fixed"),
            ("usage", "Metered Usage"),
            ("delivered", "Delivered on the Order"),
        ],
        default="fixed",
        required=True,
        help="Fixed: the line's quantity every period. Metered usage: the usage recorded "
        "for the period. Delivered on the order: what the sales order line delivered and "
        "has not invoiced yet, invoiced by the order itself.",
    )
    pricing = fields.Selection(
        [("unit", "Per Unit"), ("volume", "Volume Tiers"), ("graduated", "Graduated Tiers")],
        default="unit",
        required=True,
        help="Metered usage: per unit at the unit price; volume: the whole quantity at the "
        "price of the tier it reaches; graduated: each slice at its own tier's price.",
    )
    included_quantity = fields.Float(
        string="Included per Period",
        digits="Product Unit",
        help="Metered usage: allowance of each period, billed at no charge (prorated on "
        "prorated periods).",
    )
    tier_ids = fields.One2many("crm.billing.price.tier", "line_id", string="Price Tiers", copy=True)
    allow_negative_usage = fields.Boolean(
        string="Allow Corrections",
        help="Metered usage: accept negative usage records that correct earlier ones.",
    )
    usage_ids = fields.One2many("crm.billing.usage", "line_id", string="Usage")
    uom_name = fields.Char(related="product_id.uom_id.name", string="Unit")

    _quantity_positive = models.Constraint(
        "CHECK(quantity >= 0)", "A schedule line cannot have a negative quantity."
    )
    _percent_range = models.Constraint(
        "CHECK(percent >= 0 AND percent <= 100)", "A share is between 0 and 100%."
    )

    @api.depends("quantity", "price_unit", "discount", "currency_id", "quantity_source")
    def _compute_price_subtotal(self):
        for line in self:
            if line.quantity_source != "fixed":
                # what metered and delivered lines bill is only known period by period
                line.price_subtotal = 0.0
                continue
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
        self._check_quantity_source_change(vals)
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

    # --- Metered and delivered quantities ---

    @api.constrains("quantity_source", "pricing", "sale_line_id", "schedule_id")
    def _check_quantity_source(self):
        for line in self.filtered(lambda line: line.quantity_source != "fixed"):
            schedule = line.schedule_id
            if schedule.schedule_type != "recurring":
                raise ValidationError(
                    _(
                        "Line %(line)s of %(schedule)s: only recurring schedules bill metered "
                        "or delivered quantities.",
                        line=line.name,
                        schedule=schedule.name,
                    )
                )
            if line.quantity_source == "delivered":
                order_line = line.sale_line_id
                if not order_line or order_line.order_id != schedule.sale_order_id:
                    raise ValidationError(
                        _(
                            "Line %(line)s bills what is delivered: it needs a line of the "
                            "schedule's sales order.",
                            line=line.name,
                        )
                    )
                if order_line.product_id.invoice_policy != "delivery":
                    raise ValidationError(
                        _(
                            "Line %(line)s bills what is delivered, but %(product)s is invoiced "
                            "on ordered quantities.",
                            line=line.name,
                            product=order_line.product_id.display_name,
                        )
                    )
        self._check_pricing()

    def _check_pricing(self):
        reasons = {
            "no tier": _("add at least one tier"),
            "exactly one tier, the last, has no limit": _(
                "exactly one tier, the last, has no limit (leave its 'Up To' empty)"
            ),
            "tier limits are positive and distinct": _("tier limits are positive and distinct"),
            "tier prices are not negative": _("tier prices cannot be negative"),
        }
        for line in self.filtered(
            lambda line: line.quantity_source == "usage" and line.pricing != "unit"
        ):
            try:
                usage_math.check_tiers(line.tier_ids._as_pairs())
            except ValueError as error:
                raise ValidationError(
                    _(
                        "The price tiers of line %(line)s are not valid: %(reason)s.",
                        line=line.name,
                        reason=reasons.get(str(error), str(error)),
                    )
                ) from error

    def _check_quantity_source_change(self, vals):
        """A metered line with usage stays metered: its usage would be lost."""
        if "quantity_source" in vals:
            metered = self.filtered(
                lambda line: (
                    line.quantity_source == "usage"
                    and line.quantity_source != vals["quantity_source"]
                )
            )
            if metered and self.env["crm.billing.usage"].search_count(
                [("line_id", "in", metered.ids)], limit=1
            ):
                raise UserError(
                    _(
                        "Line %s has usage records: it stays metered. Close it and add a new "
                        "line instead.",
                        metered[0].name,
                    )
                )

    @api.ondelete(at_uninstall=False)
    def _unlink_except_usage(self):
        if self.env["crm.billing.usage"].search_count([("line_id", "in", self.ids)], limit=1):
            raise UserError(_("A metered line with usage records cannot be deleted."))

    def _prepare_invoice_lines_vals(self, period):
        """Invoice lines of this schedule line for one period: the line itself for a
        fixed quantity, the period's usage for a metered one (possibly several lines,
        one per tier), none for what the sales order delivers (the order invoices it)
        nor for a removed line (quantity 0 after a change: its history stays)."""
        self.ensure_one()
        if self._billing_is_removed():
            return []
        if self.quantity_source == "usage":
            return self._prepare_usage_invoice_lines_vals(period)
        if self.quantity_source == "delivered":
            return []
        return [self._prepare_invoice_line_vals(period)]

    def _billing_is_removed(self):
        """A recurring fixed line brought to quantity 0: it bills nothing any more."""
        self.ensure_one()
        return (
            self.quantity_source == "fixed"
            and not self.quantity
            and self.schedule_id.schedule_type == "recurring"
        )

    def _usage_allowance(self, factor):
        """The allowance of a period covering ``factor`` of a full one."""
        return float_round(
            self.included_quantity * float(factor),
            precision_digits=self.env["decimal.precision"].precision_get("Product Unit"),
        )

    def _usage_tiers(self):
        return self.tier_ids._as_pairs() if self.pricing != "unit" else ()

    def _format_usage_number(self, quantity):
        if float(quantity).is_integer():
            return formatLang(self.env, quantity, digits=0)
        return formatLang(self.env, quantity, dp="Product Unit")

    def _format_usage_quantity(self, quantity):
        text = self._format_usage_number(quantity)
        return f"{text} {self.uom_name}" if self.uom_name else text

    def _format_usage_dates(self, date_from, date_to):
        lang = self.schedule_id.partner_id.lang or self.env.lang
        start = format_date(self.env, date_from, lang_code=lang, date_format="d MMM")
        end = format_date(self.env, date_to, lang_code=lang, date_format="d MMM y")
        return f"{start} – {end}"

    def _prepare_usage_slice_vals(self, name, part, usage_ids=None):
        vals = {
            "display_type": "product",
            "name": name,
            "product_id": self.product_id.id,
            "quantity": part.quantity,
            "price_unit": part.price,
            "discount": self.discount,
            "tax_ids": [fields.Command.set(self.tax_ids.ids)],
        }
        if usage_ids:
            vals["billing_usage_ids"] = [fields.Command.set(usage_ids)]
        return vals

    def _describe_slices(self, header, slices):
        """One invoice line name per priced slice, saying how its amount is reached."""
        if self.pricing == "unit":
            return [header]
        names = []
        for part in slices:
            if self.pricing == "volume":
                limit = (
                    _("up to %s", self._format_usage_quantity(part.upper))
                    if part.upper
                    else _("above %s", self._format_usage_quantity(part.lower))
                )
                detail = _(
                    "volume tier %(tier)s (%(limit)s): every unit at this tier's price",
                    tier=part.tier,
                    limit=limit,
                )
            else:
                upper = self._format_usage_quantity(part.upper) if part.upper else _("no limit")
                detail = _(
                    "graduated tier %(tier)s (%(lower)s to %(upper)s)",
                    tier=part.tier,
                    lower=self._format_usage_number(part.lower),
                    upper=upper,
                )
            names.append(f"{header}\n{detail}" if not names else f"{self.name}\n{detail}")
        return names

    def _prepare_usage_invoice_lines_vals(self, period):
        """Invoice lines of the usage of this metered line: the period's own usage,
        and on the first invoice of a run the late usage dated in periods already
        invoiced, labelled with its own dates."""
        self.ensure_one()
        batch = self.schedule_id._usage_for_invoicing({self.schedule_id: [period]})
        usage = batch.get((self.id, period.date_start)) or {}
        current_qty, current_ids = usage.get("current", (0.0, []))
        included = self._usage_allowance(period.factor)
        header = _(
            "%(name)s\nUsage %(dates)s: %(quantity)s",
            name=self.name,
            dates=self._format_usage_dates(period.date_start, period.date_end),
            quantity=self._format_usage_quantity(current_qty),
        )
        if included:
            header += _(", %s included", self._format_usage_quantity(included))
            if period.factor != 1:
                covered = (period.date_end - period.date_start).days + 1
                header += _(
                    " (prorated: %(covered)s of %(total)s days)",
                    covered=covered,
                    total=round(covered / period.factor),
                )
        slices = usage_math.price_quantity(
            usage_math.billable_quantity(current_qty, included),
            self.pricing,
            price_unit=self.price_unit,
            tiers=self._usage_tiers(),
        )
        vals_list = []
        for index, (name, part) in enumerate(zip(self._describe_slices(header, slices), slices)):
            vals_list.append(self._prepare_usage_slice_vals(name, part, index == 0 and current_ids))
        for late in usage.get("late", ()):
            vals_list += self._prepare_late_usage_invoice_lines_vals(late)
        return vals_list

    def _prepare_late_usage_invoice_lines_vals(self, late):
        """Late usage of one invoiced period, priced on top of what that period
        already billed: its remaining allowance first, then the tiers from where the
        period stood; what was invoiced is never repriced."""
        included = self._usage_allowance(late["factor"])
        already = late["invoiced_quantity"]
        remaining = max(included - already, 0.0)
        header = _(
            "%(name)s\nLate usage %(dates)s: %(quantity)s",
            name=self.name,
            dates=self._format_usage_dates(late["date_from"], late["date_to"]),
            quantity=self._format_usage_quantity(late["quantity"]),
        )
        if late["period_start"]:
            header += _(
                " (period %s already invoiced)",
                self._format_usage_dates(late["period_start"], late["period_end"]),
            )
        slices = usage_math.price_quantity(
            usage_math.billable_quantity(late["quantity"], remaining),
            self.pricing,
            price_unit=self.price_unit,
            tiers=self._usage_tiers(),
            offset=usage_math.billable_quantity(already, included),
        )
        return [
            self._prepare_usage_slice_vals(name, part, index == 0 and late["ids"])
            for index, (name, part) in enumerate(zip(self._describe_slices(header, slices), slices))
        ]
