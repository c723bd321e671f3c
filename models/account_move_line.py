# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import Command, _, api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL


class AccountMoveLine(models.Model):
    _inherit = "account.move.line"

    billing_usage_ids = fields.One2many(
        "crm.billing.usage", "invoice_line_id", string="Billed Usage", readonly=True
    )

    @api.model
    def _crm_billing_pop_usage(self, vals):
        """The usage ids that the values of a new invoice line bill
        (``billing_usage_ids`` set to a list of records), taken out of ``vals``, or
        None: the usage is linked after the batched create with one SQL UPDATE, not
        written record by record through the ORM."""
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
        batched create, with one SQL UPDATE for the whole batch."""
        links = []
        for index, vals in enumerate(vals_list):
            if vals.get("billing_usage_ids"):
                vals_list[index] = vals = dict(vals)
                ids = self._crm_billing_pop_usage(vals)
                if ids is not None:
                    links.append((index, ids))
        lines = super().create(vals_list)
        if links:
            lines._link_billing_usage([(lines[index], ids) for index, ids in links])
        return lines

    def _link_billing_usage(self, links):
        """Link usage records to the invoice lines that bill them, ``links`` being
        (invoice line, usage ids) pairs, in one UPDATE. A record is linked once only,
        and only to an invoice of its own schedule: anything else is refused and
        nothing is linked."""
        usage_ids = [usage_id for _line, ids in links for usage_id in ids]
        line_ids = [line.id for line, ids in links for _usage_id in ids]
        if not usage_ids:
            return
        # the schedule of each line's invoice, from the cache of the new lines: the
        # UPDATE compares it row by row without joining the invoices
        schedules = {line.id: line.sudo().move_id.billing_schedule_id.id for line, _ids in links}
        schedule_ids = [schedules[line_id] or 0 for line_id in line_ids]
        Usage = self.env["crm.billing.usage"]
        Usage.flush_model(["invoice_line_id", "schedule_id"])
        rows = self.env.execute_query(
            SQL(
                """
                UPDATE crm_billing_usage u
                   SET invoice_line_id = v.line_id, write_uid = %s,
                       write_date = now() AT TIME ZONE 'UTC'
                  FROM unnest(%s::int[], %s::int[], %s::int[])
                       AS v(usage_id, line_id, schedule_id)
                 WHERE u.id = v.usage_id
                   AND u.invoice_line_id IS NULL
                   AND u.schedule_id = v.schedule_id
             RETURNING u.id
                """,
                self.env.uid,
                usage_ids,
                line_ids,
                schedule_ids,
            )
        )
        usage = Usage.browse(usage_ids)
        usage.invalidate_recordset(["invoice_line_id", "invoice_id"])
        self.browse({line.id for line, _ids in links}).invalidate_recordset(["billing_usage_ids"])
        if len(rows) != len(set(usage_ids)):
            linked = {row[0] for row in rows}
            refused = usage.filtered(lambda u: u.id not in linked)[:1].sudo()
            if refused.invoice_line_id:
                raise ValidationError(
                    _("Usage %s is already invoiced: it is billed once.", refused.reference)
                )
            raise ValidationError(
                _("Usage %s can only be invoiced by its own schedule.", refused.reference)
            )
