# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Invoiced usage is linked to its invoice line in a narrow link table instead of a
column of every usage record. The table is created by the model (``init``); the
existing links move there, and the old column goes with its index and foreign key."""

from odoo.tools import sql


def migrate(cr, version):
    if not sql.column_exists(cr, "crm_billing_usage", "invoice_line_id"):
        return
    cr.execute(
        """
        INSERT INTO crm_billing_usage_link (usage_id, move_line_id)
        SELECT u.id, u.invoice_line_id
          FROM crm_billing_usage u
          JOIN account_move_line l ON l.id = u.invoice_line_id
            ON CONFLICT (usage_id) DO NOTHING
        """
    )
    cr.execute("ALTER TABLE crm_billing_usage DROP COLUMN invoice_line_id")
    # Odoo registered the column's foreign key; it went with the column
    cr.execute(
        "DELETE FROM ir_model_constraint WHERE name = %s AND type = 'f'",
        ["crm_billing_usage_invoice_line_id_fkey"],
    )
