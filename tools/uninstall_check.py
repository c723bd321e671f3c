# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
# Fed to `odoo-bin shell` by tools/test.sh: use crm_billing a little (a customer, a
# running schedule, its invoice), uninstall it, and check that nothing of it is
# left in the database while the invoice, now an ordinary one, is.
from dateutil.relativedelta import relativedelta

from odoo import Command, fields

today = fields.Date.today()
partner = env["res.partner"].create({"name": "Uninstall Check Ltd", "street": "1 Exit Road"})
schedule = env["crm.billing.schedule"].create(
    {
        "partner_id": partner.id,
        "date_start": today - relativedelta(months=1),
        "line_ids": [Command.create({"name": "Service", "price_unit": 42.0})],
    }
)
schedule.action_start()
invoices = schedule.action_generate_invoices() and schedule.invoice_ids
env.cr.commit()  # pylint: disable=invalid-commit
module = env["ir.module.module"].search([("name", "=", "crm_billing")])
module.button_immediate_uninstall()
env.cr.commit()  # pylint: disable=invalid-commit
env.invalidate_all()
left = []
if module.state != "uninstalled":
    left.append(f"module state {module.state}")
env.cr.execute(
    "SELECT table_name FROM information_schema.tables WHERE table_name LIKE 'crm_billing%%'"
)
left += [f"table {row[0]}" for row in env.cr.fetchall()]
env.cr.execute(
    "SELECT table_name, column_name FROM information_schema.columns"
    " WHERE table_schema = 'public' AND (column_name LIKE 'billing%%'"
    " OR column_name LIKE 'receipt%%' OR column_name LIKE 'reminder%%')"
)
left += [f"column {row[0]}.{row[1]}" for row in env.cr.fetchall()]
left += [
    f"view {v.key or v.name}"
    for v in env["ir.ui.view"].search([("arch_db", "ilike", "crm_billing.")])
]
left += [f"model {m.model}" for m in env["ir.model"].search([("model", "like", "crm.billing")])]
env.cr.execute("SELECT tgname FROM pg_trigger WHERE tgname LIKE 'crm_billing%%'")
left += [f"trigger {row[0]}" for row in env.cr.fetchall()]
env.cr.execute("SELECT proname FROM pg_proc WHERE proname LIKE 'crm_billing%%'")
left += [f"function {row[0]}" for row in env.cr.fetchall()]
env.cr.execute("SELECT count(*) FROM account_move WHERE id = ANY(%s)", [invoices.ids])
if len(invoices) != 2 or env.cr.fetchone()[0] != 2:
    left.append(f"the schedule's invoices are gone ({len(invoices)} made)")
# Odoo's own invoices still delete as before (draft ones, with their lines)
draft = env["account.move"].create(
    {
        "move_type": "out_invoice",
        "partner_id": partner.id,
        "invoice_line_ids": [Command.create({"name": "After", "price_unit": 1.0})],
    }
)
try:
    draft.unlink()
except Exception as error:  # reported, as everything left behind
    left.append(f"a draft invoice cannot be deleted: {error}")
env.cr.rollback()
print("UNINSTALL LEFT: " + ", ".join(left) if left else "UNINSTALL OK")
