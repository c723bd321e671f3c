# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from collections import defaultdict

from dateutil.relativedelta import relativedelta
from markupsafe import Markup

from odoo import Command, _, api, fields, models
from odoo.exceptions import UserError

#: the creation message's body, as ``mail.thread.create`` writes it (its
#: ``summary`` hides the body in the chatter, which shows the subtype's name)
CREATION_BODY = Markup('<div summary="o_mail_notification"><p>%s</p></div>')


class AccountMove(models.Model):
    _inherit = "account.move"

    billing_schedule_id = fields.Many2one(
        "crm.billing.schedule",
        readonly=True,
        copy=False,
        index="btree_not_null",
    )
    billing_period_id = fields.Many2one(
        "crm.billing.period",
        readonly=True,
        copy=False,
        index="btree_not_null",
    )
    billing_period_start = fields.Date(related="billing_period_id.date_start", string="Period From")
    billing_period_end = fields.Date(related="billing_period_id.date_end", string="Period To")

    reminder_level_id = fields.Many2one(
        "crm.billing.reminder.level",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="The last payment reminder level this invoice was reminded at; "
        "an invoice is never reminded twice at the same level.",
    )
    reminder_last_date = fields.Date(string="Last Reminder", readonly=True, copy=False)
    reminder_excluded = fields.Boolean(
        string="No Payment Reminders",
        copy=False,
        tracking=True,
        help="Never send payment reminders about this invoice.",
    )
    billing_reminder_ids = fields.Many2many(
        "crm.billing.reminder",
        "crm_billing_reminder_account_move_rel",
        "move_id",
        "reminder_id",
        string="Payment Reminders",
        readonly=True,
        copy=False,
    )
    billing_charge_ids = fields.One2many(
        "crm.billing.charge", "invoice_id", string="Charges", readonly=True, copy=False
    )
    billing_next_charge_date = fields.Date(
        string="Next Charge",
        readonly=True,
        copy=False,
        index="btree_not_null",
        groups="account.group_account_invoice,crm_billing.group_billing_manager",
        help="When the collection run charges this invoice with its schedule's payment "
        "method (first attempt or retry); empty when no charge is planned.",
    )
    billing_charge_count = fields.Integer(compute="_compute_billing_charge_count")

    #: what the payment reminders keep on the invoices they ask for, and nobody else
    _CRM_BILLING_REMINDER_FIELDS = (
        "reminder_level_id",
        "reminder_last_date",
        "billing_reminder_ids",
    )

    def _crm_billing_check_reminder_fields(self, vals):
        if not self.env.su and any(fname in vals for fname in self._CRM_BILLING_REMINDER_FIELDS):
            raise UserError(
                _(
                    "An invoice's reminder level, last reminder date and payment reminders "
                    "are kept by the payment reminders: they cannot be changed by hand."
                )
            )

    def write(self, vals):
        self._crm_billing_check_reminder_fields(vals)
        return super().write(vals)

    @api.model_create_multi
    def create(self, vals_list):
        """Invoices created with lines that bill usage (the billing run's) are
        created without it, and the usage of the whole batch is linked after the
        create with one SQL INSERT into the link table: carried in the values, a
        period's thousand usage ids would be converted and cached with every new line."""
        for vals in vals_list:
            self._crm_billing_check_reminder_fields(vals)
        Line = self.env["account.move.line"]
        links, created_counts = [], {}
        for index, vals in enumerate(vals_list):
            commands = vals.get("invoice_line_ids")
            if not commands or not any(
                isinstance(command, (list, tuple))
                and command[0] == Command.CREATE
                and command[2].get("billing_usage_ids")
                for command in commands
            ):
                continue
            new_commands, position = [], 0
            for command in commands:
                if isinstance(command, (list, tuple)) and command[0] == Command.CREATE:
                    line_vals = dict(command[2])
                    ids = Line._crm_billing_pop_usage(line_vals)
                    if ids is not None:
                        links.append((index, position, ids))
                    command = Command.create(line_vals)
                    position += 1
                new_commands.append(command)
            vals_list[index] = {**vals, "invoice_line_ids": new_commands}
            created_counts[index] = position
        moves = super().create(vals_list)
        if links:
            moves._crm_billing_link_created_usage(links, created_counts)
        return moves

    def _crm_billing_link_created_usage(self, links, created_counts):
        """Link usage to the invoice lines created from the commands that carried it:
        ``links`` are (index of the invoice, position of the line among its created
        lines, usage ids), ``created_counts`` the lines created per invoice index.
        Lines are created in the order of their commands."""
        pairs = []
        for index, position, ids in links:
            move = self[index]
            created = move.invoice_line_ids.sorted("id")
            if len(created) != created_counts[index]:
                raise UserError(
                    _(
                        "The usage of invoice %s could not be linked to its lines.",
                        move.display_name,
                    )
                )
            pairs.append((created[position], ids))
        self.env["account.move.line"]._link_billing_usage(pairs, created=True)

    def _crm_billing_after_create(self):
        """Log the new invoices on their schedules, and hand posted invoices of
        auto-sending schedules to Odoo's sending queue: the PDF is rendered and the
        email sent by account's own cron, outside the billing run."""
        self._crm_billing_log_on_schedules()
        to_send = self.filtered(lambda m: m.state == "posted" and m.billing_schedule_id.auto_send)
        if not to_send:
            return
        user = self.env.user
        to_send.sending_data = {
            "author_user_id": user.id,
            "author_partner_id": user.partner_id.id,
            "sending_methods": ["email"],
        }
        self.env.ref("account.ir_cron_account_move_send")._trigger()

    def _crm_billing_log_on_schedules(self):
        """One chatter message per schedule for all the invoices one run made for
        it, however many (a catch-up makes several), logged in one batch."""
        bodies = {}
        for schedule, invoices in self.grouped("billing_schedule_id").items():
            if not schedule:
                continue
            links = Markup(", ").join(invoice._get_html_link() for invoice in invoices)
            bodies[schedule.id] = (
                self.env._("Invoiced: %(invoices)s", invoices=links)
                if len(invoices) == 1
                else self.env._(
                    "%(count)s invoices made: %(invoices)s", count=len(invoices), invoices=links
                )
            )
        if bodies:
            self.env["crm.billing.schedule"].browse(bodies)._message_log_batch(bodies)

    def _crm_billing_followed_in(self, subtypes):
        """The ids of these records that someone follows for one of ``subtypes``:
        Odoo's own messages of those subtypes notify them."""
        if not self or not subtypes:
            return set()
        followers = (
            self.env["mail.followers"]
            .sudo()
            .search_fetch(
                [
                    ("res_model", "=", self._name),
                    ("res_id", "in", self.ids),
                    ("subtype_ids", "in", subtypes.ids),
                ],
                ["res_id"],
            )
        )
        return set(followers.mapped("res_id"))

    def _crm_billing_log_creation(self):
        """Log the creation message of these new invoices, created without it
        (``mail_create_nolog``), as ``mail.thread.create`` would have logged it: the
        same body, subtype (the invoice's ``_creation_subtype``) and author, but for
        the whole batch at once. Odoo posts each invoice's with a ``message_post`` of
        its own, about a sixth of the billing run's time.

        An invoice that someone follows for that subtype gets Odoo's own message,
        which notifies them; nothing is logged when the caller asked for no creation
        message (``mail_create_nolog``, ``tracking_disable``)."""
        context = self.env.context
        if not self or context.get("mail_create_nolog") or context.get("tracking_disable"):
            return
        author_id = self.env.user.partner_id.id
        Subtype = self.env["mail.message.subtype"]
        by_subtype = defaultdict(list)
        for move in self:
            by_subtype[move._creation_subtype() or Subtype].append(move.id)
        followed = self._crm_billing_followed_in(Subtype.union(*by_subtype))
        for subtype, ids in by_subtype.items():
            moves = self.browse(ids)
            if not subtype:
                moves._message_log_batch({move.id: move._creation_message() for move in moves})
                continue
            alone = moves.filtered(lambda move: move.id in followed)
            for move in alone:
                move.sudo().message_post(
                    subtype_id=subtype.id,
                    author_id=author_id,
                    body=CREATION_BODY % move._creation_message(),
                )
            batch = moves - alone
            if batch:
                messages = batch._message_log_batch(
                    {move.id: CREATION_BODY % move._creation_message() for move in batch},
                    author_id=author_id,
                )
                # a message of that subtype, visible as Odoo's own
                messages.write({"subtype_id": subtype.id, "is_internal": False})

    def _crm_billing_log_with_tracking(self, bodies, author_id):
        """Log ``bodies`` ({invoice id: body}) on these invoices in one batch, each
        note also carrying the tracking Odoo would post for the invoice at commit
        (the payment status the collection run just set): the same tracking values
        and subtype as Odoo's own tracking message, in one message instead of two.

        Left to Odoo's own tracking, as they are: the invoices whose change would
        notify a follower (subscribed to the tracking's subtype), and those whose
        tracking message has a body or an author of its own. Only a change tracked
        by the time of this call is carried: a later one is tracked by Odoo."""
        self.flush_model()  # the payment status recomputed, its tracking prepared
        # mail.thread._track_prepare keeps each record's initial values there
        # until mail.thread._track_finalize posts them at commit
        data = self.env.cr.precommit.data
        pending = data.get(f"mail.tracking.{self._name}", {})
        own_body_or_author = set(data.get(f"mail.tracking.message.{self._name}", ())) | set(
            data.get(f"mail.tracking.author.{self._name}", ())
        )
        tracked_fields = None
        tracking = {}
        for move in self:
            initial = pending.get(move.id)
            if not initial or move.id in own_body_or_author:
                continue
            if tracked_fields is None:
                tracked_fields = self.fields_get(
                    self._track_get_fields(),
                    attributes=("string", "type", "selection", "currency_field"),
                )
            changes, values = move._mail_track(tracked_fields, initial)
            if changes:
                subtype = move._track_subtype({fname: initial[fname] for fname in changes})
                tracking[move.id] = (subtype or self.env["mail.message.subtype"], values)
        subtypes = self.env["mail.message.subtype"].union(*(s for s, _v in tracking.values()))
        for res_id in self.browse(tracking)._crm_billing_followed_in(subtypes):
            del tracking[res_id]
        messages = self._message_log_batch(bodies, author_id=author_id)
        if not tracking:
            return messages
        for move_id in tracking:
            del pending[move_id]  # tracked here, not again at commit
        message_ids = {message.res_id: message.id for message in messages}
        self.env["mail.tracking.value"].sudo().create(
            [
                dict(vals, mail_message_id=message_ids[move_id])
                for move_id, (_subtype, values) in tracking.items()
                for _0, _0, vals in values
            ]
        )
        by_subtype = defaultdict(list)
        for move_id, (subtype, _values) in tracking.items():
            if subtype:
                by_subtype[subtype].append(message_ids[move_id])
        for subtype, ids in by_subtype.items():
            self.env["mail.message"].sudo().browse(ids).subtype_id = subtype
        return messages

    # --- Payment reminders ---

    def action_billing_send_reminder(self):
        """Open the reminder wizard on these invoices: only they are considered, under
        the same rules as the daily run."""
        return self.env["crm.billing.reminder.send"]._action_open(invoices=self)

    # --- Demo data ---

    @api.model
    def _billing_demo_register_payments(self, schedule_xmlids, index=0, ratio=1.0, days_late=0):
        """Demo data only: pay the ``index``-th posted invoice (oldest first) of each
        schedule, ``ratio`` of it, ``days_late`` days after its due date, so that the
        demo database has full, partial and late payments and their receipts."""
        Register = self.env["account.payment.register"]
        for xmlid in schedule_xmlids:
            schedule = self.env.ref(xmlid)
            invoices = schedule.invoice_ids.filtered(lambda m: m.state == "posted").sorted(
                "invoice_date"
            )
            if len(invoices) <= index:
                continue
            invoice = invoices[index]
            Register.with_context(active_model="account.move", active_ids=invoice.ids).create(
                {
                    "payment_date": invoice.invoice_date_due + relativedelta(days=days_late),
                    "amount": invoice.currency_id.round(invoice.amount_residual * ratio),
                    "payment_difference_handling": "open",
                }
            )._create_payments()

    # --- Payment collection ---

    def _compute_billing_charge_count(self):
        # the charges the user opens from the button, under his own rules
        Charge = self.env["crm.billing.charge"]
        counts = (
            dict(Charge._read_group([("invoice_id", "in", self.ids)], ["invoice_id"], ["__count"]))
            if Charge.has_access("read")
            else {}
        )
        for move in self:
            move.billing_charge_count = counts.get(move, 0)

    def _post(self, soft=True):
        posted = super()._post(soft=soft)
        to_charge = posted.filtered(
            lambda m: (
                m.move_type == "out_invoice"
                and m.billing_schedule_id.sudo().payment_token_id
                and not m.currency_id.is_zero(m.amount_residual)
                and not m.sudo().billing_charge_ids
            )
        )
        if to_charge:
            # charged by the collection run, in its own committed batches: posting
            # never waits on a payment provider
            to_charge.sudo().billing_next_charge_date = fields.Date.context_today(self)
            self.env["crm.billing.charge"]._trigger_collection()
        return posted

    def action_billing_charge_now(self):
        """Charge these invoices with their schedule's payment method now, under the
        collection run's rules: queued for the run, which starts at once."""
        Charge = self.env["crm.billing.charge"]
        Charge._check_charge_rights()
        self.check_access("write")
        for invoice in self.sudo():
            token = invoice.billing_schedule_id.payment_token_id
            reason = Charge._invoice_blocker(invoice, token)
            if not reason and invoice.billing_charge_ids.filtered(lambda c: c.state == "pending"):
                reason = _("a charge of this invoice is waiting for the provider's answer")
            if reason:
                raise UserError(
                    _(
                        "Invoice %(invoice)s cannot be charged: %(reason)s.",
                        invoice=invoice.name or invoice.display_name,
                        reason=reason,
                    )
                )
        self.sudo().billing_next_charge_date = fields.Date.context_today(self)
        Charge._trigger_collection()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "info",
                "message": _(
                    "The charge of %s invoice(s) is queued: the collection run makes it "
                    "in a moment and logs the result on each invoice.",
                    len(self),
                ),
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    def action_view_billing_charges(self):
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "crm_billing.crm_billing_charge_action"
        )
        action["domain"] = [("invoice_id", "in", self.ids)]
        action["context"] = {"create": False}
        return action

    def _billing_last_charge(self):
        """The latest charge of this invoice (for its customer email)."""
        self.ensure_one()
        charge_id = self.env.context.get("crm_billing_charge_id")
        charges = self.sudo().billing_charge_ids
        return charges.filtered(lambda c: c.id == charge_id) or charges.sorted("attempt")[-1:]
