# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from psycopg2 import errors as pg_errors

from odoo import Command, _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL

from .crm_billing_usage import USAGE_LINK_TABLE, search_usage_link


def _int_array(values):
    """A PostgreSQL array literal of integers, for ``%s::int[]``."""
    return "{%s}" % ",".join(str(int(value)) for value in values)


class AccountMoveLine(models.Model):
    _inherit = "account.move.line"

    # the usage this line bills, from the link table (see crm_billing_usage.py)
    billing_usage_ids = fields.Many2many(
        "crm.billing.usage",
        string="Billed Usage",
        readonly=True,
        copy=False,
        compute="_compute_billing_usage_ids",
        inverse="_inverse_billing_usage_ids",
        search="_search_billing_usage_ids",
    )

    def _billing_usage_links(self):
        """{invoice line id: usage ids} of these lines, joined to the usage records."""
        ids = [line_id for line_id in self._origin.ids if line_id]
        if not ids:
            return {}
        rows = self.env.execute_query(
            SQL(
                """
                SELECT link.move_line_id, array_agg(link.usage_id ORDER BY link.usage_id)
                  FROM %s link
                  JOIN crm_billing_usage u ON u.id = link.usage_id
                 WHERE link.move_line_id = ANY(%s)
                 GROUP BY link.move_line_id
                """,
                SQL.identifier(USAGE_LINK_TABLE),
                ids,
            )
        )
        return dict(rows)

    def _compute_billing_usage_ids(self):
        links = self._billing_usage_links()
        Usage = self.env["crm.billing.usage"]
        # the records the user may read, as a one2many would show them
        readable = Usage.browse(
            usage_id for ids in links.values() for usage_id in ids
        )._filtered_access("read")
        for line in self:
            line.billing_usage_ids = Usage.browse(links.get(line._origin.id, [])) & readable

    def _inverse_billing_usage_ids(self):
        """Usage linked through the ORM is linked like the run's; invoiced usage
        never leaves its invoice line (only deleting the draft line frees it)."""
        links = self._billing_usage_links()
        pairs = []
        for line in self:
            old = set(links.get(line.id, []))
            new = set(line.billing_usage_ids.ids)
            if old - new:
                raise UserError(
                    _("Invoiced usage stays on its invoice line: delete the draft invoice instead.")
                )
            if new - old:
                pairs.append((line, sorted(new - old)))
        if pairs:
            self._link_billing_usage(pairs)

    def _search_billing_usage_ids(self, operator, value):
        if operator not in ("in", "any", "any!"):
            return NotImplemented
        return search_usage_link(
            operator,
            value,
            "move_line_id",
            "usage_id",
            self.env["crm.billing.usage"],
            lambda line: not line.billing_usage_ids,
        )

    @api.model
    def _lock_for_usage_link(self, line_ids):
        """Make a concurrent delete of these existing lines wait for this transaction
        and then fail to serialize (and be retried), so that the trigger that deletes
        the links of deleted lines sees the links made here (see
        ``create_usage_link_table``): the lines' rows are rewritten as they are, a
        lock alone would not do it. Refused when a line no longer exists."""
        self.env.cr.execute(
            SQL(
                "UPDATE account_move_line SET write_date = write_date WHERE id = ANY(%s)",
                list(line_ids),
            )
        )
        if self.env.cr.rowcount != len(line_ids):
            raise ValidationError(_("The invoice line to link usage to no longer exists."))

    @api.model
    def _crm_billing_pop_usage(self, vals):
        """The usage ids that the values of a new invoice line bill
        (``billing_usage_ids`` set to a list of records), taken out of ``vals``, or
        None: the usage is linked after the batched create with one SQL INSERT, not
        through the ORM."""
        commands = vals.get("billing_usage_ids")
        if not (
            commands
            and len(commands) == 1
            and isinstance(commands[0], (list, tuple))
            and commands[0][0] == Command.SET
        ):
            return None
        del vals["billing_usage_ids"]
        return list(commands[0][2])

    @api.model_create_multi
    def create(self, vals_list):
        """Invoice lines created with their usage are linked to it after the
        batched create, with one SQL INSERT for the whole batch."""
        links = []
        for index, vals in enumerate(vals_list):
            if vals.get("billing_usage_ids"):
                vals_list[index] = vals = dict(vals)
                ids = self._crm_billing_pop_usage(vals)
                if ids is not None:
                    links.append((index, ids))
        lines = super().create(vals_list)
        if links:
            lines._link_billing_usage([(lines[index], ids) for index, ids in links], created=True)
        return lines

    def _link_billing_usage(self, links, created=False):
        """Link usage records to the invoice lines that bill them, ``links`` being
        (invoice line, usage ids) pairs, with one INSERT into the link table. A
        record is linked once only (the table's primary key), and only to an
        invoice of its own schedule: anything else is refused and nothing is
        linked. ``created``: the lines were created in this transaction."""
        usage_ids = [usage_id for _line, ids in links for usage_id in ids]
        line_ids = [line.id for line, ids in links for _usage_id in ids]
        if not usage_ids:
            return
        if not created:
            self._lock_for_usage_link({line.id for line, _ids in links})
        # the schedule of each line's invoice, from the cache of the new lines: the
        # INSERT compares it row by row without joining the invoices
        schedules = {line.id: line.sudo().move_id.billing_schedule_id.id for line, _ids in links}
        schedule_ids = [schedules[line_id] or 0 for line_id in line_ids]
        Usage = self.env["crm.billing.usage"]
        Usage.flush_model(["schedule_id"])
        # the arrays go as text literals ('{1,2,…}'), parsed at once, not as
        # thousands of query constants; each record's schedule is read by a
        # correlated lookup of its primary key, a plan that does not depend on the
        # statistics (a join was planned as a hash of the whole usage table, or as
        # nested loops re-reading the id list). A plain INSERT, in a savepoint: a
        # record linked already fails it on the primary key, and the whole
        # statement with it (ON CONFLICT DO NOTHING cost a third of the link)
        query = SQL(
            """
            INSERT INTO %s (usage_id, move_line_id)
            SELECT v.usage_id, v.line_id
              FROM unnest(%s::int[], %s::int[], %s::int[]) AS v(usage_id, line_id, schedule_id)
             WHERE (SELECT u.schedule_id FROM crm_billing_usage u
                     WHERE u.id = v.usage_id) = v.schedule_id
            """,
            SQL.identifier(USAGE_LINK_TABLE),
            _int_array(usage_ids),
            _int_array(line_ids),
            _int_array(schedule_ids),
        )
        cr = self.env.cr
        try:
            with cr.savepoint(flush=False):
                cr.execute(query, log_exceptions=False)
                linked_count = cr.rowcount
        except pg_errors.UniqueViolation as error:
            linked_count = None
            duplicate = error
        usage = Usage.browse(usage_ids)
        usage.invalidate_recordset(["invoice_line_id", "invoice_id"])
        self.browse({line.id for line, _ids in links}).invalidate_recordset(["billing_usage_ids"])
        if linked_count is None:
            # linked already (here or to another line), or given twice; else a
            # concurrent transaction linked it after this one's snapshot: retried by
            # Odoo, which then sees the link
            seen, refused = set(), usage.browse()
            for record in usage.sudo():
                if record.invoice_line_id or record.id in seen:
                    refused = record
                    break
                seen.add(record.id)
            if not refused:
                raise pg_errors.SerializationFailure(str(duplicate)) from duplicate
            raise ValidationError(
                _("Usage %s is already invoiced: it is billed once.", refused.reference)
            )
        if linked_count != len(usage_ids):
            expected = dict(zip(usage_ids, line_ids, strict=True))
            refused = usage.sudo().filtered(lambda u: u.invoice_line_id.id != expected[u.id])[:1]
            raise ValidationError(
                _("Usage %s can only be invoiced by its own schedule.", refused.reference)
            )
