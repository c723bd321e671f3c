# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from . import crm_billing_schedule_wizard
from . import crm_billing_reminder_send
from . import crm_billing_statement_wizard
from . import crm_billing_change_wizard
from . import crm_billing_close_wizard
