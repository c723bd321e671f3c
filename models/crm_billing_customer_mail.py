# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models


class CrmBillingCustomerMail(models.AbstractModel):
    """How a record sent to a billing customer (a payment reminder, a statement)
    reaches them by email: rendered from a mail template on the record, posted on the
    customer's chatter, delivered by the mail queue.

    The inheriting model has ``partner_id`` (the customer), ``manual`` (sent by hand),
    ``user_id`` (who sent it), ``message_id`` and ``recipient_ids``."""

    _name = "crm.billing.customer.mail"
    _description = "Email to a Billing Customer"

    def _get_invoice_address_recipients(self):
        """The customer's invoice address when it has an email, else the customer."""
        self.ensure_one()
        return self._get_invoice_address_recipients_of(self.partner_id)

    @api.model
    def _get_invoice_address_recipients_of(self, partner):
        """``_get_invoice_address_recipients`` of a record sent to ``partner``."""
        invoice_address = self.env["res.partner"].browse(
            partner.address_get(["invoice"])["invoice"]
        )
        return (invoice_address | partner).filtered("email")[:1]

    def _render_customer_emails(self, template):
        """Subject, body and sender of ``template`` rendered on each of these records
        at once, in the language the template chooses (the customer's): a dict by
        record id."""
        return template._generate_template(self.ids, ("subject", "body_html", "email_from"))

    def _render_customer_email(self, template):
        """Subject, body and sender of ``template`` rendered on this record."""
        self.ensure_one()
        return self._render_customer_emails(template)[self.id]

    def _find_customer_email_authors(self, rendered):
        """Add to ``rendered`` (``_render_customer_emails``) the author that
        ``message_post`` finds for the sender of each scheduled email, found for all
        of these records at once with Odoo's batched ``_partner_find_from_emails``
        (``message_post`` looks it up one record at a time otherwise)."""
        scheduled = self.filtered(lambda r: not r.manual and rendered[r.id].get("email_from"))
        if not scheduled or len(scheduled.partner_id) < len(scheduled):
            return  # none, or a customer twice: each finds its own
        found = scheduled.partner_id._partner_find_from_emails(
            {r.partner_id: [rendered[r.id]["email_from"]] for r in scheduled}, no_create=True
        )
        for record in scheduled:
            rendered[record.id]["author_id"] = found[record.partner_id.id][:1].id

    def _post_customer_email(self, template, recipients, attachments, values=None):
        """Email ``template`` rendered on this record to ``recipients`` with
        ``attachments`` (a list of (file name, content)), through the customer's
        chatter, and remember the message and the recipients. ``values`` is this
        record's rendering when it was already rendered with others (see
        ``_render_customer_emails``). Returns the message."""
        self.ensure_one()
        values = values or self._render_customer_email(template)
        # sent by hand, it comes from its sender, so that the answer reaches him; the
        # scheduled runs' come from the template's sender (the company by default)
        if self.manual:
            sender = {"author_id": self.user_id.partner_id.id}
        else:
            sender = {"email_from": values.get("email_from") or None}
            if "author_id" in values:
                sender["author_id"] = values["author_id"]
        message = self.partner_id.with_context(mail_notify_force_send=False).message_post(
            body=values["body_html"],
            subject=values["subject"],
            partner_ids=recipients.ids,
            **sender,
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
            email_layout_xmlid="mail.mail_notification_light",
            attachments=attachments,
        )
        self.write(
            {"message_id": message.id, "recipient_ids": [fields.Command.set(recipients.ids)]}
        )
        return message
