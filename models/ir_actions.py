# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models
from odoo.tools import frozendict


class IrActionsActions(models.Model):
    _inherit = "ir.actions.actions"

    def _get_bindings(self, model_name):
        """Odoo's own entries first in the Print and Actions menus of a record:
        crm_billing's entries follow those of every other module, whatever order the
        modules were installed in (Odoo lists reports by id)."""
        bindings = super()._get_bindings(model_name)
        self.env.cr.execute(
            """
            SELECT res_id FROM ir_model_data
             WHERE module = 'crm_billing' AND model LIKE 'ir.actions.%%'
            """
        )
        ours = {row[0] for row in self.env.cr.fetchall()}
        if not ours:
            return bindings
        return frozendict(
            {
                binding_type: tuple(sorted(actions, key=lambda action: action["id"] in ours))
                for binding_type, actions in bindings.items()
            }
        )
