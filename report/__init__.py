# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from . import crm_billing_document_report
from . import crm_billing_statement_report
from . import report_estimate
from . import report_payment_receipt
from . import crm_billing_mrr_report
from . import crm_billing_mrr_movement_report
from . import crm_billing_ageing_report
from . import crm_billing_payment_report
from . import crm_billing_collection_report
