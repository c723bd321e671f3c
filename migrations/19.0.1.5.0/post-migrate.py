# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The payment-reminder templates call their table of invoices without a body, which
renders them in about half the time (see data/mail_template_reminder.xml). The
templates are the company's (noupdate): only the call itself is rewritten, in every
language, wherever it is still as this module wrote it."""

OLD = '<t t-call="crm_billing.reminder_invoice_table"><t t-set="reminder" t-value="object"/></t>'
NEW = '<t t-set="reminder" t-value="object"/><t t-call="crm_billing.reminder_invoice_table"/>'


def migrate(cr, version):
    cr.execute(
        """
        UPDATE mail_template t
           SET body_html = (
                SELECT jsonb_object_agg(lang.key, replace(lang.value, %(old)s, %(new)s))
                  FROM jsonb_each_text(t.body_html) lang
               )
          FROM ir_model_data d
         WHERE d.module = 'crm_billing'
           AND d.model = 'mail.template'
           AND d.res_id = t.id
           AND d.name LIKE 'mail_template_reminder_%%'
           AND t.body_html::text LIKE %(like)s
        """,
        {"old": OLD, "new": NEW, "like": "%reminder_invoice_table%"},
    )
