# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
# Fed to `odoo-bin shell` by tools/test.sh: uninstall crm_billing and check that
# nothing of it is left in the database.
module = env["ir.module.module"].search([("name", "=", "crm_billing")])
module.button_immediate_uninstall()
env.cr.commit()  # noqa: invalid-commit -- a shell session, not module code
env.invalidate_all()
left = []
if module.state != "uninstalled":
    left.append(f"module state {module.state}")
env.cr.execute("SELECT table_name FROM information_schema.tables WHERE table_name LIKE 'crm_billing%%'")
left += [f"table {row[0]}" for row in env.cr.fetchall()]
env.cr.execute(
    "SELECT table_name, column_name FROM information_schema.columns"
    " WHERE column_name LIKE 'billing%%' OR column_name LIKE 'receipt%%' OR column_name LIKE 'reminder%%'"
)
left += [f"column {row[0]}.{row[1]}" for row in env.cr.fetchall()]
left += [f"view {v.key or v.name}" for v in env["ir.ui.view"].search([("arch_db", "ilike", "crm_billing.")])]
left += [f"model {m.model}" for m in env["ir.model"].search([("model", "like", "crm.billing")])]
print("UNINSTALL LEFT: " + ", ".join(left) if left else "UNINSTALL OK")
