# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import timedelta
from fractions import Fraction

from odoo import Command, _, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import format_date

from . import billing_period_math as period_math


class CrmBillingSchedule(models.Model):
    """Changes with an effective date on a running schedule.

    A change takes effect on its date. The days already invoiced from that date on
    are set right at once, prorated by days covered / days in the period exactly as
    the periods themselves are: an upgrade by a prorated invoice (or on the next
    invoice, as the company chooses), a downgrade by a prorated credit note. The
    days of a period not yet invoiced before the change are set right on that
    period's own invoice. Each change bills only its own delta, from the line as it
    stands, so two changes in one period never bill the same days twice."""

    _inherit = "crm.billing.schedule"

    change_ids = fields.One2many("crm.billing.change", "schedule_id", string="Changes")
    change_count = fields.Integer(compute="_compute_change_count")

    def _compute_change_count(self):
        counts = dict(
            self.env["crm.billing.change"]._read_group(
                [("schedule_id", "in", self.ids)], ["schedule_id"], ["__count"]
            )
        )
        for schedule in self:
            schedule.change_count = counts.get(schedule, 0)

    # --- Actions ---

    def action_open_change_wizard(self):
        self.ensure_one()
        self._check_billing_changeable()
        return {
            "type": "ir.actions.act_window",
            "name": _("Change %s", self.name),
            "res_model": "crm.billing.change.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_schedule_id": self.id},
        }

    def action_view_changes(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "crm_billing.crm_billing_change_action"
        )
        action["domain"] = [("schedule_id", "=", self.id)]
        action["context"] = {"create": False}
        return action

    # --- Rules ---

    def _check_billing_change_access(self):
        """Changes are made by billing users on schedules they may edit; the portal
        and the scheduled actions call in as superuser once their own rules hold."""
        if self.env.su:
            return
        if not self.env.user.has_group("crm_billing.group_billing_user"):
            raise AccessError(_("Only billing users can change a billing schedule."))
        self.check_access("write")

    def _billing_can_post(self):
        """Posting needs Invoicing rights or Billing Manager, whoever asks (the real
        user, even when the call runs as superuser for a portal customer)."""
        user = self.env.user
        return (
            user._is_superuser()
            or user.has_group("account.group_account_invoice")
            or (user.has_group("crm_billing.group_billing_manager"))
        )

    def _check_billing_changeable(self):
        for schedule in self:
            if schedule.schedule_type != "recurring":
                raise UserError(
                    _(
                        "Schedule %s is an instalment plan: only recurring schedules change.",
                        schedule.name,
                    )
                )
            if schedule.state == "draft":
                raise UserError(
                    _("Schedule %s has not started: edit its lines directly.", schedule.name)
                )
            if schedule.state not in ("running", "paused"):
                raise UserError(_("Schedule %s has ended: it can no longer change.", schedule.name))

    # --- Pricing a change ---

    def _billing_line_subtotal(self, quantity, price_unit, discount):
        """Untaxed amount of a full period, as the schedule line computes it."""
        return self.currency_id.round(quantity * price_unit * (1 - (discount or 0.0) / 100.0))

    def _billing_change_plan(self, date, changes, correct_invoiced=False):
        """Check ``changes`` dated ``date`` and price them, writing nothing.

        ``changes`` is a list of dicts: ``line`` (a schedule line, or empty for a new
        one, then with ``product_id``, ``name`` and ``tax_ids``), and the new
        ``quantity``, ``price_unit`` and ``discount``. Returns one dict per change
        with the old and new values, ``now`` (a list of ``(period, amount, first
        day)`` for the periods already invoiced) and ``next_amount`` /
        ``next_period_start`` (what the next invoice carries)."""
        self.ensure_one()
        self._check_billing_changeable()
        currency = self.currency_id
        date = fields.Date.to_date(date)
        if not date:
            raise ValidationError(_("A change needs the date it takes effect."))
        kwargs = self._period_kwargs()
        period = period_math.period_at(date, **kwargs)
        if not period:
            values = {
                "name": self.name,
                "start": format_date(self.env, self.date_start),
                "end": format_date(self.env, self.date_end),
                "date": format_date(self.env, date),
            }
            if self.date_end:
                raise ValidationError(
                    _(
                        "Schedule %(name)s runs from %(start)s to %(end)s: a change dated "
                        "%(date)s is outside it.",
                        **values,
                    )
                )
            raise ValidationError(
                _(
                    "Schedule %(name)s runs from %(start)s: a change dated %(date)s is outside it.",
                    **values,
                )
            )
        invoiced = self.period_ids.sorted("date_start")
        before = invoiced.filtered(lambda p: p.date_start < period.date_start)
        if len(before) < period.index:
            raise UserError(
                _(
                    "Schedule %(name)s has periods before %(date)s still to invoice: invoice "
                    "them first, or date the change in the next period to invoice (%(next)s).",
                    name=self.name,
                    date=format_date(self.env, date),
                    next=format_date(self.env, self.next_invoice_date) or "-",
                )
            )
        later = invoiced.filtered(lambda p: p.date_start > period.date_start)
        if later and not correct_invoiced:
            raise UserError(
                _(
                    "Schedule %(name)s is invoiced up to %(end)s: a change dated %(date)s "
                    "corrects invoices already issued. Choose to correct them, and the "
                    "correcting invoice or credit note is made with the change.",
                    name=self.name,
                    end=format_date(self.env, invoiced[-1].date_end),
                    date=format_date(self.env, date),
                )
            )
        current = invoiced.filtered(lambda p: p.date_start == period.date_start)
        touched = invoiced.filtered(lambda p: p.date_end >= date)
        if current:
            upcoming = self._next_period()
            next_start = upcoming and upcoming.date_start
        else:
            next_start = period.date_start
        defer_upgrades = (
            self.company_id.billing_upgrade_invoicing == "next_invoice"
            and not correct_invoiced
            and next_start
        )
        plan = []
        for change in changes:
            line = change.get("line") or self.env["crm.billing.schedule.line"]
            quantity = change.get("quantity", line.quantity)
            price_unit = change.get("price_unit", line.price_unit)
            discount = change.get("discount", line.discount) or 0.0
            label = line.name or change.get("name") or ""
            if quantity is False or quantity is None or quantity < 0:
                raise ValidationError(_("%s: the quantity cannot be negative.", label))
            if price_unit is False or price_unit is None or price_unit < 0:
                raise ValidationError(_("%s: the unit price cannot be negative.", label))
            if not 0 <= discount <= 100:
                raise ValidationError(_("%s: a discount is between 0 and 100%%.", label))
            if line and line.schedule_id != self:
                raise ValidationError(
                    _("Line %(line)s is not a line of %(name)s.", line=label, name=self.name)
                )
            if not line and not (change.get("product_id") or change.get("name")):
                raise ValidationError(_("A new line needs a product or a description."))
            if line:
                later_change = self.change_ids.filtered(
                    lambda c, line=line: c.line_id == line and c.date > date
                )
                if later_change:
                    raise UserError(
                        _(
                            "%(line)s already changed on %(later)s: a change dated %(date)s "
                            "would come before it. Changes go in date order.",
                            line=label,
                            later=format_date(self.env, max(later_change.mapped("date"))),
                            date=format_date(self.env, date),
                        )
                    )
            old_subtotal = line.price_subtotal if line else 0.0
            new_subtotal = self._billing_line_subtotal(quantity, price_unit, discount)
            delta = Fraction(str(new_subtotal)) - Fraction(str(old_subtotal))
            now = []
            if delta:
                for invoiced_period in touched:
                    share = period_math.period_share(
                        invoiced_period.date_start,
                        invoiced_period.date_end,
                        Fraction(str(invoiced_period.factor)),
                        day_from=date,
                    )
                    amount = currency.round(float(delta * share))
                    if not currency.is_zero(amount):
                        now.append((invoiced_period, amount, max(date, invoiced_period.date_start)))
            next_amount = 0.0
            if delta and not current and date > period.date_start:
                # the period's own invoice bills it all at the new values: it gives back
                # (or adds) the days before the change
                share = period_math.period_share(
                    period.date_start,
                    period.date_end,
                    period.factor,
                    day_to=date - timedelta(days=1),
                )
                next_amount = currency.round(float(-delta * share))
            if defer_upgrades and now and sum(amount for _p, amount, _d in now) > 0:
                next_amount = currency.round(next_amount + sum(amount for _p, amount, _d in now))
                now = []
            plan.append(
                {
                    "line": line,
                    "change": change,
                    "label": label,
                    "old": (line.quantity, line.price_unit, line.discount)
                    if line
                    else (0.0, price_unit, discount),
                    "new": (quantity, price_unit, discount),
                    "old_subtotal": old_subtotal,
                    "new_subtotal": new_subtotal,
                    "now": now,
                    "next_amount": next_amount,
                    "next_period_start": next_start if next_amount else False,
                }
            )
        return plan

    def _billing_change_preview(self, date, changes, correct_invoiced=False):
        """What the changes would invoice (positive) or credit (negative) at once, and
        what they would add to the next invoice, untaxed: ``(now, next)``."""
        plan = self._billing_change_plan(date, changes, correct_invoiced=correct_invoiced)
        currency = self.currency_id
        now = sum(amount for item in plan for _p, amount, _d in item["now"])
        later = sum(item["next_amount"] for item in plan)
        return currency.round(now), currency.round(later)

    # --- Applying a change ---

    def _apply_billing_changes(self, date, changes, correct_invoiced=False, source="backend"):
        """Apply ``changes`` (see ``_billing_change_plan``) from ``date`` on: write
        the lines, record the history, and make the prorated invoice or credit note
        for the days already invoiced. Returns the ``crm.billing.change`` records."""
        self.ensure_one()
        self._check_billing_change_access()
        # the invoicing run must not invoice this schedule while it changes
        self._lock_for_invoicing()
        plan = self._billing_change_plan(date, changes, correct_invoiced=correct_invoiced)
        plan = [item for item in plan if not item["line"] or item["old"] != item["new"]]
        if not plan:
            raise UserError(_("Nothing changes: give the lines new quantities or prices."))
        Line = self.env["crm.billing.schedule.line"]
        for item in plan:
            quantity, price_unit, discount = item["new"]
            if item["line"]:
                item["line"].write(
                    {"quantity": quantity, "price_unit": price_unit, "discount": discount}
                )
            else:
                change = item["change"]
                item["line"] = Line.create(
                    {
                        "schedule_id": self.id,
                        "product_id": change.get("product_id"),
                        "name": change.get("name")
                        or self.env["product.product"]
                        .browse(change.get("product_id"))
                        .get_product_multiline_description_sale(),
                        "quantity": quantity,
                        "price_unit": price_unit,
                        "discount": discount,
                        "tax_ids": [Command.set(change.get("tax_ids") or [])],
                    }
                )
        date = fields.Date.to_date(date)
        changes_sudo = (
            self.env["crm.billing.change"]
            .sudo()
            .create([self._prepare_billing_change_vals(date, item, source) for item in plan])
        )
        move = self._create_billing_change_move(plan)
        if move:
            for item, change in zip(plan, changes_sudo, strict=True):
                if item["now"]:
                    change.move_id = move
        self._post_billing_change_message(changes_sudo, move)
        return changes_sudo.with_env(self.env)

    def _prepare_billing_change_vals(self, date, item, source):
        old_quantity, old_price, old_discount = item["old"]
        new_quantity, new_price, new_discount = item["new"]
        line = item["line"]
        return {
            "schedule_id": self.id,
            "line_id": line.id,
            "product_id": line.product_id.id,
            "name": line.name,
            "date": date,
            "user_id": self.env.user.id,
            "source": source,
            "old_quantity": old_quantity,
            "new_quantity": new_quantity,
            "old_price_unit": old_price,
            "new_price_unit": new_price,
            "old_discount": old_discount,
            "new_discount": new_discount,
            "old_subtotal": item["old_subtotal"],
            "new_subtotal": item["new_subtotal"],
            "amount": sum(amount for _p, amount, _d in item["now"]),
            "next_invoice_amount": item["next_amount"],
            "next_invoice_period_start": item["next_period_start"],
        }

    def _billing_change_line_name(self, item, first_day, last_day, share):
        self.ensure_one()
        currency = self.currency_id
        lang = self.partner_id.lang or self.env.lang
        date_format = self.env["res.lang"]._get_data(code=lang).date_format or "%m/%d/%Y"
        if item.get("closing"):
            return _(
                "%(name)s: unused after closing, from %(start)s to %(end)s "
                "(%(covered)s of %(total)s days)",
                name=item["label"],
                start=first_day.strftime(date_format),
                end=last_day.strftime(date_format),
                covered=(last_day - first_day).days + 1,
                total=round(((last_day - first_day).days + 1) / share) if share else 0,
            )
        return _(
            "%(name)s: %(old)s → %(new)s a period, from %(start)s to %(end)s "
            "(%(covered)s of %(total)s days)",
            name=item["label"],
            old=currency.format(item["old_subtotal"]),
            new=currency.format(item["new_subtotal"]),
            start=first_day.strftime(date_format),
            end=last_day.strftime(date_format),
            covered=(last_day - first_day).days + 1,
            total=round(((last_day - first_day).days + 1) / share) if share else 0,
        )

    def _create_billing_change_move(self, plan):
        """One prorated invoice (or credit note, when the changes give back more than
        they add) for the days already invoiced; posted when the schedule posts its
        invoices and the user may post."""
        self.ensure_one()
        chunks = [
            (item, period, amount, day) for item in plan for period, amount, day in item["now"]
        ]
        total = self.currency_id.round(sum(amount for _i, _p, amount, _d in chunks))
        if not chunks or self.currency_id.is_zero(total):
            return self.env["account.move"]
        sign = 1 if total > 0 else -1
        line_vals = []
        for item, period, amount, day in chunks:
            share = period_math.period_share(
                period.date_start, period.date_end, Fraction(str(period.factor)), day_from=day
            )
            line = item["line"]
            line_vals.append(
                {
                    "display_type": "product",
                    "name": self._billing_change_line_name(item, day, period.date_end, share),
                    "product_id": line.product_id.id,
                    "quantity": 1.0,
                    "price_unit": sign * amount,
                    "tax_ids": [Command.set(line.tax_ids.ids)],
                }
            )
        vals = self._prepare_billing_change_move_vals(sign, line_vals)
        move = self.env["account.move"].sudo().with_company(self.company_id).create(vals)
        if self.auto_post and self._billing_can_post():
            move.action_post()
        return move.with_env(self.env)

    def _prepare_billing_change_move_vals(self, sign, line_vals):
        """Values of a prorated invoice (``sign`` 1) or credit note (-1); extend to add
        fields."""
        self.ensure_one()
        vals = {
            "move_type": "out_invoice" if sign > 0 else "out_refund",
            "partner_id": self.partner_id.id,
            "company_id": self.company_id.id,
            "currency_id": self.currency_id.id,
            "journal_id": self._get_journal().id,
            "invoice_date": fields.Date.context_today(self),
            "invoice_origin": self.name,
            "invoice_user_id": self.user_id.id,
            "billing_schedule_id": self.id,
            "invoice_line_ids": [Command.create(vals) for vals in line_vals],
        }
        if self.payment_term_id and sign > 0:
            vals["invoice_payment_term_id"] = self.payment_term_id.id
        if self.fiscal_position_id:
            vals["fiscal_position_id"] = self.fiscal_position_id.id
        return vals

    def _post_billing_change_message(self, changes, move):
        self.ensure_one()
        currency = self.currency_id
        user = self.env.user
        parts = [
            self.env._(
                "%(line)s: %(old)s → %(new)s a period",
                line=change.name,
                old=currency.format(change.old_subtotal),
                new=currency.format(change.new_subtotal),
            )
            for change in changes
        ]
        body = _(
            "%(who)s changed the schedule from %(date)s: %(changes)s.",
            who=user.partner_id.name,
            date=format_date(self.env, changes[:1].date),
            changes="; ".join(parts),
        )
        if move:
            amount = currency.format(move.amount_untaxed)
            # whole sentences, so that each translates as a sentence
            if move.move_type == "out_invoice" and move.state == "posted":
                prorated = _("Prorated invoice: %s.", amount)
            elif move.move_type == "out_invoice":
                prorated = _("Prorated invoice: %s (draft, to be posted by accounting).", amount)
            elif move.state == "posted":
                prorated = _("Prorated credit note: %s.", amount)
            else:
                prorated = _(
                    "Prorated credit note: %s (draft, to be posted by accounting).", amount
                )
            body += " " + prorated
        next_amount = sum(changes.mapped("next_invoice_amount"))
        if not currency.is_zero(next_amount):
            body += " " + _("The next invoice carries %s for it.", currency.format(next_amount))
        self.sudo().message_post(
            body=body,
            author_id=user.partner_id.id,
            message_type="comment",
            subtype_xmlid="mail.mt_note",
        )

    # --- The next invoice ---

    def _prepare_invoice_lines_vals(self, period):
        """The invoice of a period also carries what changes left for it."""
        vals_list = super()._prepare_invoice_lines_vals(period)
        if self.schedule_type != "recurring":
            return vals_list
        currency = self.currency_id
        for change in self.sudo().change_ids:
            if change.next_invoice_period_start != period.date_start or currency.is_zero(
                change.next_invoice_amount
            ):
                continue
            vals_list.append(change._prepare_next_invoice_line_vals())
        return vals_list
