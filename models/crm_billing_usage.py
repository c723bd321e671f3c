# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.fields import Domain
from odoo.tools import SQL, Query, sql

#: the link of invoiced usage records to the invoice lines that bill them
USAGE_LINK_TABLE = "crm_billing_usage_link"
#: the trigger (and its function) that deletes the links of deleted invoice lines
USAGE_LINK_TRIGGER = "crm_billing_usage_link_unlink_lines"


def create_usage_link_table(cr):
    """Create the link table of invoiced usage if it does not exist, and (again) the
    trigger that frees the usage of deleted invoice lines.

    Invoicing a period's usage only inserts narrow rows here, instead of rewriting
    every wide usage row and its index entries. ``usage_id`` is the primary key: the
    database itself refuses a second link, so a record is billed once.

    Deleting invoice lines (a draft invoice) deletes their links, so that the usage
    is free to be invoiced again: a trigger run once per ``DELETE`` statement on
    the invoice lines, with the deleted rows, instead of a foreign key, whose check
    of the line on each of a period's thousand links cost more than the links
    themselves (see readme/BENCHMARK.md). Links are only inserted for lines that
    exist, and a delete racing the insert waits for it, then fails to serialize
    (see ``account.move.line._lock_for_usage_link``).

    There is no foreign key to the usage record either: usage ids are never reused,
    an invoiced record cannot be deleted, and links are only ever read joined to
    their usage records, so a link left by a schedule deleted with its usage is
    never seen."""
    if not sql.table_exists(cr, USAGE_LINK_TABLE):
        cr.execute(
            SQL(
                """
                CREATE TABLE %(table)s (
                    usage_id integer PRIMARY KEY,
                    move_line_id integer NOT NULL
                );
                CREATE INDEX %(index)s ON %(table)s (move_line_id);
                COMMENT ON TABLE %(table)s IS 'crm_billing: usage records and their invoice lines';
                """,
                table=SQL.identifier(USAGE_LINK_TABLE),
                index=SQL.identifier(f"{USAGE_LINK_TABLE}_move_line_id_idx"),
            )
        )
    # up to 19.0.1.3.0 a foreign key to the invoice line did what the trigger does
    cr.execute(
        SQL(
            "ALTER TABLE %s DROP CONSTRAINT IF EXISTS %s",
            SQL.identifier(USAGE_LINK_TABLE),
            SQL.identifier(f"{USAGE_LINK_TABLE}_move_line_id_fkey"),
        )
    )
    # the deleted lines' ids as an array: the links are found through their index,
    # whatever the number of deleted lines (a transition table has no statistics)
    cr.execute(
        SQL(
            """
            CREATE OR REPLACE FUNCTION %(function)s() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                DELETE FROM %(table)s
                 WHERE move_line_id = ANY(ARRAY(SELECT id FROM crm_billing_deleted_lines));
                RETURN NULL;
            END
            $$;
            DROP TRIGGER IF EXISTS %(trigger)s ON account_move_line;
            CREATE TRIGGER %(trigger)s AFTER DELETE ON account_move_line
                REFERENCING OLD TABLE AS crm_billing_deleted_lines
                FOR EACH STATEMENT EXECUTE FUNCTION %(function)s();
            """,
            table=SQL.identifier(USAGE_LINK_TABLE),
            function=SQL.identifier(USAGE_LINK_TRIGGER),
            trigger=SQL.identifier(USAGE_LINK_TRIGGER),
        )
    )


def drop_usage_link_trigger(cr):
    """Drop the trigger of ``create_usage_link_table`` and its function (the
    module's uninstallation drops the table itself)."""
    cr.execute(
        SQL(
            "DROP TRIGGER IF EXISTS %(trigger)s ON account_move_line;"
            " DROP FUNCTION IF EXISTS %(function)s()",
            trigger=SQL.identifier(USAGE_LINK_TRIGGER),
            function=SQL.identifier(USAGE_LINK_TRIGGER),
        )
    )


def search_usage_link(operator, value, own, other, comodel, unlinked):
    """The domain of a search across the usage link table, for the side of it whose
    record ids are the link's ``own`` column (``usage_id`` or ``move_line_id``):
    ``in`` ids of the other side (``False`` for no link at all, an anti-join on the
    link table), or ``any`` / ``any!`` a domain or query on ``comodel``, the other
    side. ``unlinked`` is the in-memory test of "no link" of a record."""
    link = SQL.identifier(USAGE_LINK_TABLE)
    own, other = SQL.identifier(own), SQL.identifier(other)
    if operator != "in":
        if operator == "any!":
            comodel = comodel.sudo()
        query = value if isinstance(value, Query) else comodel._search(value)
        return Domain(
            "id", "in", SQL("SELECT %s FROM %s WHERE %s IN %s", own, link, other, query.subselect())
        )
    ids = [other_id for other_id in value if other_id]
    domain = Domain.FALSE
    if ids:
        domain = Domain(
            "id", "in", SQL("SELECT %s FROM %s WHERE %s = ANY(%s)", own, link, other, ids)
        )
    if len(ids) < len(value):
        domain |= Domain.custom(
            to_sql=lambda model, alias, query: SQL(
                "NOT EXISTS (SELECT FROM %s WHERE %s = %s)", link, own, SQL.identifier(alias, "id")
            ),
            predicate=unlinked,
        )
    return domain


class CrmBillingUsage(models.Model):
    """One usage record of a metered schedule line: what was used on a day.

    A record counts exactly once: its reference is unique per schedule (the
    database refuses a second one), and once invoiced it is linked to its invoice
    line and can no longer change. Usage dated in a period already invoiced is
    billed on the next invoice, as late usage."""

    _name = "crm.billing.usage"
    _description = "Billing Usage"
    _order = "date desc, id desc"
    _rec_name = "reference"

    # the indexes are few on purpose: linking a period's usage to its invoice line
    # rewrites every record and every index entry of it. The schedule is served by
    # the unique (schedule, reference) index, the line by (line, date).
    schedule_id = fields.Many2one("crm.billing.schedule", required=True, ondelete="cascade")
    line_id = fields.Many2one(
        "crm.billing.schedule.line",
        string="Schedule Line",
        required=True,
        ondelete="cascade",
        domain="[('schedule_id', '=', schedule_id), ('quantity_source', '=', 'usage')]",
        help="The metered line billing this usage; given a schedule and a product, the "
        "schedule's metered line of that product.",
    )
    # the company follows the schedule; the line is the schedule's own and its product
    # the line's (see _check_usage): no per-record company check, which would cost
    # more than the whole insert on a batch of thousands
    product_id = fields.Many2one("product.product")
    company_id = fields.Many2one(related="schedule_id.company_id", store=True)
    partner_id = fields.Many2one(
        related="schedule_id.commercial_partner_id", string="Customer", store=True, index=True
    )
    date = fields.Date(required=True, index=True, default=fields.Date.context_today)
    quantity = fields.Float(required=True, digits="Product Unit")
    uom_name = fields.Char(related="line_id.uom_name", string="Unit")
    reference = fields.Char(
        required=True,
        help="The sender's own reference of this record, unique per schedule: a record "
        "sent twice is refused the second time, so it counts once.",
    )
    # set when invoiced: kept in the narrow link table (see create_usage_link_table),
    # readable, searchable and groupable like a stored field
    invoice_line_id = fields.Many2one(
        "account.move.line",
        readonly=True,
        copy=False,
        compute="_compute_invoice_line_id",
        search="_search_invoice_line_id",
    )
    invoice_id = fields.Many2one(related="invoice_line_id.move_id", string="Invoice")

    _line_date_idx = models.Index("(line_id, date)")
    _reference_unique = models.Constraint(
        "UNIQUE(schedule_id, reference)",
        "This usage reference was already recorded for this schedule: a usage record counts once.",
    )

    def init(self):
        super().init()
        create_usage_link_table(self.env.cr)
        # dropped with the module, as the table of a many2many field is (once the
        # model itself is reflected, on a first install)
        self.pool.post_init(
            self.env["ir.model.relation"]._reflect_relation, self, USAGE_LINK_TABLE, self._module
        )

    # --- Invoice line link ---

    def _compute_invoice_line_id(self):
        ids = [usage_id for usage_id in self._origin.ids if usage_id]
        links = {}
        if ids:
            links = dict(
                self.env.execute_query(
                    SQL(
                        "SELECT usage_id, move_line_id FROM %s WHERE usage_id = ANY(%s)",
                        SQL.identifier(USAGE_LINK_TABLE),
                        ids,
                    )
                )
            )
        Line = self.env["account.move.line"]
        for usage in self:
            usage.invoice_line_id = Line.browse(links.get(usage._origin.id))

    def _search_invoice_line_id(self, operator, value):
        """Usage by the invoice lines that bill it: ``in`` (ids, ``False`` for not
        invoiced) and ``any`` (a domain on the invoice lines); the negative
        operators are their negation, other operators search the lines by name.
        Not invoiced is an anti-join on the link table's primary key."""
        if operator not in ("in", "any", "any!"):
            if operator in ("not in", "not any", "not any!"):
                return NotImplemented
            return [("invoice_line_id", "any", [("display_name", operator, value)])]
        return search_usage_link(
            operator,
            value,
            "usage_id",
            "move_line_id",
            self.env["account.move.line"],
            lambda usage: not usage.invoice_line_id,
        )

    def _field_to_sql(self, alias, field_expr, query=None):
        # the invoice line, from the link table: group by it, or by the invoice
        if field_expr != "invoice_line_id" or query is None:
            return super()._field_to_sql(alias, field_expr, query)
        self._check_field_access(self._fields["invoice_line_id"], "read")
        link_alias = query.make_alias(alias, "invoice_line_link")
        query.add_join(
            "LEFT JOIN",
            link_alias,
            USAGE_LINK_TABLE,
            SQL("%s = %s", SQL.identifier(alias, "id"), SQL.identifier(link_alias, "usage_id")),
        )
        return SQL.identifier(link_alias, "move_line_id")

    def _lock_schedules_against_invoicing(self):
        """Make a change of these records and an invoicing run that bills them
        exclude each other: their schedules' rows are updated (the run locks them
        first). Whichever of the two commits second meets a serialization failure
        and is tried again (Odoo retries the request, the run its batch), on a
        snapshot that shows what the other did: a record cannot change or vanish
        while the run bills it."""
        schedule_ids = sorted(set(self.sudo().schedule_id.ids))
        if schedule_ids:
            self.env.execute_query(
                SQL(
                    "UPDATE crm_billing_schedule SET write_date = write_date WHERE id = ANY(%s)",
                    schedule_ids,
                )
            )

    # --- Creation ---

    @api.model_create_multi
    def create(self, vals_list):
        self._resolve_lines(vals_list)
        self._check_duplicate_references(vals_list)
        return super().create(vals_list)

    @api.model
    def _resolve_lines(self, vals_list):
        """Complete each record's schedule, line and product from what it names: a
        line, or a schedule and a product. Unknown schedules and lines are refused."""
        Schedule = self.env["crm.billing.schedule"]
        Line = self.env["crm.billing.schedule.line"]
        schedule_ids = {vals["schedule_id"] for vals in vals_list if vals.get("schedule_id")}
        line_ids = {vals["line_id"] for vals in vals_list if vals.get("line_id")}
        missing = schedule_ids - set(Schedule.browse(schedule_ids).exists().ids)
        if missing:
            raise ValidationError(
                _("Unknown billing schedule (id %s): no usage was recorded.", min(missing))
            )
        lines = Line.browse(line_ids).exists()
        missing = line_ids - set(lines.ids)
        if missing:
            raise ValidationError(
                _("Unknown schedule line (id %s): no usage was recorded.", min(missing))
            )
        need_lookup = [vals for vals in vals_list if not vals.get("line_id")]
        metered = {}
        if need_lookup:
            for line in Line.search(
                [
                    (
                        "schedule_id",
                        "in",
                        list({v.get("schedule_id") for v in need_lookup if v.get("schedule_id")}),
                    ),
                    ("quantity_source", "=", "usage"),
                ]
            ):
                metered.setdefault((line.schedule_id.id, line.product_id.id), []).append(line)
        lines_by_id = {line.id: line for line in lines}
        for vals in vals_list:
            if vals.get("line_id"):
                line = lines_by_id[vals["line_id"]]
            else:
                if not vals.get("schedule_id") or not vals.get("product_id"):
                    raise ValidationError(
                        _("A usage record names its schedule line, or its schedule and product.")
                    )
                candidates = metered.get((vals["schedule_id"], vals["product_id"]), [])
                if len(candidates) != 1:
                    schedule = Schedule.browse(vals["schedule_id"]).name
                    product = self.env["product.product"].browse(vals["product_id"]).display_name
                    if not candidates:
                        raise ValidationError(
                            _(
                                "Schedule %(schedule)s has no metered line of %(product)s.",
                                schedule=schedule,
                                product=product,
                            )
                        )
                    raise ValidationError(
                        _(
                            "Schedule %(schedule)s has several metered lines of %(product)s: "
                            "name the line.",
                            schedule=schedule,
                            product=product,
                        )
                    )
                line = candidates[0]
                vals["line_id"] = line.id
            vals.setdefault("schedule_id", line.schedule_id.id)
            vals.setdefault("product_id", line.product_id.id)

    def _check_duplicate_references(self, vals_list):
        """Name the references already recorded (or repeated in ``vals_list``); the
        unique key in the database stays the last line of defence against races."""
        keys = [(vals.get("schedule_id"), vals.get("reference")) for vals in vals_list]
        seen = set()
        repeated = {key for key in keys if key in seen or seen.add(key)}
        references = {reference for _schedule, reference in keys if reference}
        if references:
            existing = self.sudo().search_fetch(
                [
                    ("schedule_id", "in", list({schedule for schedule, _r in keys})),
                    ("reference", "in", list(references)),
                    ("id", "not in", self.ids),
                ],
                ["schedule_id", "reference"],
            )
            repeated |= {(usage.schedule_id.id, usage.reference) for usage in existing} & set(keys)
        if repeated:
            shown = sorted(reference for _schedule, reference in repeated)
            raise ValidationError(
                _(
                    "Usage already recorded, a usage record counts once: reference %s. "
                    "Nothing was recorded.",
                    ", ".join(shown[:10]) + (" …" if len(shown) > 10 else ""),
                )
            )

    # --- Constraints ---

    @api.constrains("schedule_id", "line_id", "product_id", "date", "quantity")
    def _check_usage(self):
        for usage in self:
            line = usage.line_id
            schedule = usage.schedule_id
            if line.schedule_id != schedule:
                raise ValidationError(
                    _(
                        "Line %(line)s does not belong to schedule %(schedule)s.",
                        line=line.name,
                        schedule=schedule.name,
                    )
                )
            if line.quantity_source != "usage":
                raise ValidationError(
                    _(
                        "Line %(line)s of %(schedule)s is not metered: it takes no usage.",
                        line=line.name,
                        schedule=schedule.name,
                    )
                )
            if usage.product_id != line.product_id:
                raise ValidationError(
                    _(
                        "Usage %(reference)s is of %(product)s, but line %(line)s bills %(billed)s.",
                        reference=usage.reference,
                        product=usage.product_id.display_name,
                        line=line.name,
                        billed=line.product_id.display_name,
                    )
                )
            if schedule.state in ("done", "cancelled"):
                raise ValidationError(
                    _(
                        "Schedule %s is closed: it takes no more usage.",
                        schedule.name,
                    )
                )
            if usage.date < schedule.date_start or (
                schedule.date_end and usage.date > schedule.date_end
            ):
                values = {
                    "reference": usage.reference,
                    "date": usage.date,
                    "schedule": schedule.name,
                    "start": schedule.date_start,
                    "end": schedule.date_end,
                }
                raise ValidationError(
                    _(
                        "Usage %(reference)s is dated %(date)s, outside schedule %(schedule)s "
                        "(from %(start)s to %(end)s).",
                        **values,
                    )
                    if schedule.date_end
                    else _(
                        "Usage %(reference)s is dated %(date)s, outside schedule %(schedule)s "
                        "(from %(start)s).",
                        **values,
                    )
                )
            if usage.quantity < 0 and not line.allow_negative_usage:
                raise ValidationError(
                    _(
                        "Usage %(reference)s has a negative quantity (%(quantity)s); line "
                        "%(line)s takes no corrections.",
                        reference=usage.reference,
                        quantity=usage.quantity,
                        line=line.name,
                    )
                )

    # --- Invoiced usage is frozen ---

    def write(self, vals):
        self._lock_schedules_against_invoicing()
        invoiced = self.filtered("invoice_line_id")
        if invoiced:
            raise UserError(
                _(
                    "Usage %s is invoiced: it can no longer change. Record a correction instead.",
                    invoiced[0].reference,
                )
            )
        if {"reference", "schedule_id"} & set(vals):
            self._check_duplicate_references(
                [
                    {
                        "schedule_id": vals.get("schedule_id", usage.schedule_id.id),
                        "reference": vals.get("reference", usage.reference),
                    }
                    for usage in self
                ]
            )
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_invoiced(self):
        self._lock_schedules_against_invoicing()
        invoiced = self.filtered("invoice_line_id")
        if invoiced:
            raise UserError(_("Usage %s is invoiced: it cannot be deleted.", invoiced[0].reference))
