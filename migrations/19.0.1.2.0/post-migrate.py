# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Usage records keep fewer indexes (linking a period's usage to its invoice line
rewrites each record's entries in every index): Odoo creates the new (line, date)
index but keeps the column indexes it no longer declares, so they are dropped here."""

from odoo.tools import sql


def migrate(cr, version):
    for column in ("schedule_id", "line_id", "product_id", "company_id"):
        name = sql.make_index_name("crm_billing_usage", column)
        cr.execute(f'DROP INDEX IF EXISTS "{name}"')
