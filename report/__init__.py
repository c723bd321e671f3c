# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from . import crm_billing_document_report
from . import crm_billing_statement_report
from . import report_estimate
from . import report_payment_receipt
