# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from . import controllers
from . import models
from . import report
from . import wizards
from .models.crm_billing_usage import drop_usage_link_trigger


def uninstall_hook(env):
    """Drop the trigger crm_billing put on the invoice lines (its link table goes
    with the module, as a many2many's does)."""
    drop_usage_link_trigger(env.cr)
