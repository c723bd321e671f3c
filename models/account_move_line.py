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

    @api.model_create_multi
    def create(self, vals_list):
        """Invoice lines created with their usage (``billing_usage_ids`` set to a list
        of usage records) are linked to it after the batched create, with one SQL
        UPDATE for the whole batch instead of one ORM write per invoice line."""
        links = []
        for index, vals in enumerate(vals_list):
            commands = vals.get("billing_usage_ids")
            if (
                commands
                and len(commands) == 1
                and isinstance(commands[0], (list, tuple))
                and commands[0][0] == Command.SET
            ):
                links.append((index, list(commands[0][2])))
                vals_list[index] = {
                    key: value for key, value in vals.items() if key != "billing_usage_ids"
                }
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
        Usage = self.env["crm.billing.usage"]
        Usage.flush_model(["invoice_line_id", "schedule_id"])
        self.env["account.move"].flush_model(["billing_schedule_id"])
        self.flush_model(["move_id"])
        rows = self.env.execute_query(
            SQL(
                """
                UPDATE crm_billing_usage u
                   SET invoice_line_id = v.line_id, write_uid = %s,
                       write_date = now() AT TIME ZONE 'UTC'
                  FROM unnest(%s::int[], %s::int[]) AS v(usage_id, line_id)
                  JOIN account_move_line l ON l.id = v.line_id
                  JOIN account_move m ON m.id = l.move_id
                 WHERE u.id = v.usage_id
                   AND u.invoice_line_id IS NULL
                   AND u.schedule_id = m.billing_schedule_id
             RETURNING u.id
                """,
                self.env.uid,
                usage_ids,
                line_ids,
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
