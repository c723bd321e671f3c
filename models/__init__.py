# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from . import crm_billing_schedule
from . import crm_billing_schedule_line
from . import crm_billing_period
from . import res_partner
from . import sale_order
from . import account_move
from . import crm_billing_reminder_level
from . import crm_billing_reminder
from . import account_payment
from . import res_company
from . import res_config_settings
from . import product_template
from . import crm_lead
from . import crm_billing_mrr_report
from . import crm_billing_mrr_movement_report
from . import crm_billing_ageing_report
from . import crm_billing_payment_report
