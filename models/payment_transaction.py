# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, models

#: context key under which the collection run logs its transactions' messages itself
DEFER_TX_LOG_KEY = "crm_billing_defer_tx_log"


class PaymentTransaction(models.Model):
    _inherit = "payment.transaction"

    def _crm_billing_logs_itself(self):
        """Whether the collection run logs this transaction's messages on its invoice
        itself, in one batched note per invoice (``crm.billing.charge._log_settled``),
        instead of one ``message_post`` per message: only for the run's own charges,
        which pay one invoice and no sales order."""
        self.ensure_one()
        return bool(
            self.env.context.get(DEFER_TX_LOG_KEY)
            and len(self.invoice_ids) == 1
            and not self.sale_order_ids
            and not self.source_transaction_id
        )

    def _log_message_on_linked_documents(self, message):
        if self._crm_billing_logs_itself():
            return None
        return super()._log_message_on_linked_documents(message)

    @api.constrains("token_id")
    def _check_token_is_active(self):
        # Odoo's check reads its transactions' tokens as one record: checked one
        # transaction at a time, a batch of transactions with several payment
        # methods (the collection run creates a batch's at once) passes it too
        for transaction in self:
            super(PaymentTransaction, transaction)._check_token_is_active()
