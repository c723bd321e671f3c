# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import Command, api, fields, models
from odoo.tools import clean_context


class CrmBillingCustomerMail(models.AbstractModel):
    """How a record sent to a billing customer (a payment reminder, a statement)
    reaches them by email: rendered from a mail template on the record, posted on the
    customer's chatter, delivered by the mail queue.

    The inheriting model has ``partner_id`` (the customer), ``manual`` (sent by hand),
    ``user_id`` (who sent it), ``message_id`` and ``recipient_ids``."""

    _name = "crm.billing.customer.mail"
    _description = "Email to a Billing Customer"

    #: the layout that wraps the emails
    _customer_email_layout = "mail.mail_notification_light"

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
            email_layout_xmlid=self._customer_email_layout,
            attachments=attachments,
        )
        self.write(
            {"message_id": message.id, "recipient_ids": [fields.Command.set(recipients.ids)]}
        )
        return message

    def _queue_customer_emails(self, template, rendered, recipients, attachments):
        """Email each of these records, sent by a scheduled run, the way Odoo sends a
        mass mailing that keeps a copy in the chatter (``mail.compose.message`` in
        ``mass_mail`` mode with ``auto_delete_keep_log``): ``rendered`` is their
        ``template`` rendered (``_render_customer_emails``, with the authors of
        ``_find_customer_email_authors``), ``recipients`` and ``attachments`` (a list of
        (file name, content)) are by record id. The emails are queued in one
        ``mail.mail`` create, each one's message the customer's chatter entry, their
        notifications in one create; the sender follows ``_post_customer_email``'s rule
        for scheduled runs, and each email is the one ``_post_customer_email`` sends.
        Remembers each record's message and recipients; returns the emails."""
        Message = self.env["mail.message"]
        Customers = self.partner_id.with_prefetch(self.partner_id.ids)
        companies = Customers._mail_get_companies(default=self.env.company)
        alias_domains = Customers._mail_get_alias_domains(default_company=self.env.company)
        langs = template._render_lang(self.ids)
        authors = {
            record.id: record.partner_id._message_compute_author(
                rendered[record.id].get("author_id"), rendered[record.id].get("email_from") or None
            )
            for record in self
        }
        reply_tos = Customers._notify_get_reply_to_batch(
            defaults={record.partner_id.id: authors[record.id][1] for record in self},
            author_ids={record.partner_id.id: authors[record.id][0] for record in self},
        )
        vals_list = []
        for record in self:
            customer = record.partner_id
            values = rendered[record.id]
            author_id, email_from = authors[record.id]
            mail_values = {
                "author_id": author_id,
                "email_from": email_from,
                "reply_to": reply_tos.get(customer.id) or email_from,
                "model": customer._name,
                "res_id": customer.id,
                "message_type": "email_outgoing",
                "subtype_id": False,
                "is_notification": True,
                "auto_delete": template.auto_delete,
                "mail_server_id": template.mail_server_id.id,
                "record_company_id": companies[customer.id].id,
                "record_alias_domain_id": alias_domains[customer.id].id,
                "subject": values["subject"],
                "body": values["body_html"],
                "recipient_ids": [Command.link(pid) for pid in recipients[record.id].ids],
                "attachment_ids": customer._process_attachments_for_post(
                    attachments[record.id], [], {}
                )["attachment_ids"],
                "headers": repr(customer._notify_by_email_get_headers()),
            }
            mail_values["message_id"] = Message._get_message_id(mail_values)
            mail_values["references"] = mail_values["message_id"]
            vals_list.append(mail_values)
        # no residual default_* key of the caller's context in the emails' values
        Mail = self.env["mail.mail"].sudo().with_context(clean_context(self.env.context))
        mails = Mail.create(vals_list)
        for record, mail in zip(self, mails):
            mail.body_html = record._render_customer_email_layout(
                mail.mail_message_id, recipients[record.id], langs[record.id]
            )
        self.env["mail.notification"].sudo().create(
            [
                {**notification, "res_partner_id": partner.id}
                for mail, notification in zip(mails, mails._get_notification_values())
                for partner in mail.recipient_ids
            ]
        )
        Customers._message_mail_after_hook(mails)
        for record, mail in zip(self, mails):
            record.write(
                {
                    "message_id": mail.mail_message_id.id,
                    "recipient_ids": [Command.set(recipients[record.id].ids)],
                }
            )
        return mails

    def _render_customer_email_layout(self, message, recipients, lang):
        """The body of ``message`` (this record's, on the customer) wrapped in the
        layout of the emails to the customer, for ``recipients`` (who are not users),
        as ``mail.compose.message`` renders it in ``mass_mail`` mode, but around the
        message itself, as ``message_post`` does: the same email as a post sends."""
        self.ensure_one()
        customer = self.partner_id
        msg_vals = {
            "email_layout_xmlid": self._customer_email_layout,
            "model": customer._name,
            "res_id": customer.id,
        }
        recipients_data = [
            {
                "active": True,
                "email_normalized": False,
                "id": partner.id,
                "is_follower": False,
                "lang": lang,
                "name": False,
                "groups": [],
                "notif": "email",
                "share": True,
                "type": "customer",
                "uid": False,
                "ushare": False,
            }
            for partner in recipients
        ]
        body = False
        for _lang, render_values, group in customer._notify_get_classified_recipients_iterator(
            message,
            recipients_data,
            msg_vals=msg_vals,
            model_description=False,  # computed in the customer's language
            force_email_lang=lang,
        ):
            body = customer._notify_by_email_render_layout(
                message, group, msg_vals=msg_vals, render_values=render_values
            )
        return body or message.body
