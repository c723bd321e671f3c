# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The payment collection's measurements (see bench/benchlib.py for how workers
run): charging N posted invoices with the schedules' saved payment methods through
the collection run, against Odoo's own ``account.payment`` create + ``action_post``
with the same tokens, and against Odoo's own Register Payment wizard (which also
reconciles) with the same tokens."""
# pylint: disable=invalid-commit,print-used

import os
import time
from datetime import timedelta

from benchlib import (
    QUIET,
    batch_rss,
    halves,
    on_fresh_cursor,
    profile_done,
    profiled,
    run_cron,
    settle,
    sum_parts,
    today,
)

#: floor 2 (one Register Payment wizard per invoice, about a second each on the
#: benchmark machine) is measured up to this many invoices (BENCH_FLOOR2_MAX)
REGISTER_FLOOR_MAX = int(os.environ.get("BENCH_FLOOR2_MAX", 1000))


def _provider(env):
    company = env.company
    provider = env["payment.provider"].search(
        [("code", "=", "demo"), ("company_id", "=", company.id)], limit=1
    )
    if provider.state != "test":
        provider.state = "test"
    journal = env["account.journal"].search(
        [*env["account.journal"]._check_company_domain(company), ("type", "=", "bank")], limit=1
    )
    if provider.journal_id != journal:
        provider.journal_id = journal
    return provider


def cmd_info(env):
    env.cr.execute("SHOW server_version")
    return {
        "postgres": env.cr.fetchone()[0],
        "batch_size": env["crm.billing.charge"]._CRON_BATCH_SIZE,
    }


def cmd_setup(env, tag, size):
    """``size`` running schedules of ``size / 5`` customers, each customer with one
    demo token that accepts every charge, each schedule with one posted invoice due
    for its charge today; and a copy of every invoice outside any schedule, for the
    floor."""
    from odoo import Command

    size = int(size)
    provider = _provider(env)
    company = env.company
    day = today(env)
    tax = company.account_sale_tax_id
    product = env["product.product"].create(
        {
            "name": f"Bench {tag}",
            "type": "service",
            "list_price": 100.0,
            "taxes_id": [Command.set(tax.ids)],
        }
    )
    quiet = QUIET
    partners = (
        env["res.partner"]
        .with_context(**quiet)
        .create(
            [
                {
                    "name": f"Bench {tag} customer {i}",
                    "ref": tag,
                    "email": f"b.{tag}.{i}@example.com",
                    "street": f"{i} Benchmark Road",
                    "city": "Brussels",
                }
                for i in range(max(size // 5, 1))
            ]
        )
    )
    tokens = env["payment.token"].create(
        [
            {
                "provider_id": provider.id,
                "payment_method_id": provider.payment_method_ids[:1].id,
                "partner_id": partner.id,
                "payment_details": "4242",
                "provider_ref": f"bench {partner.id}",
                "demo_simulated_state": "done",
            }
            for partner in partners
        ]
    )
    token_of = dict(zip(partners.ids, tokens, strict=True))
    schedules = (
        env["crm.billing.schedule"]
        .with_context(**quiet)
        .create(
            [
                {
                    "partner_id": partners[i % len(partners)].id,
                    "rule_type": "monthly",
                    "date_start": day - timedelta(days=1),
                    "auto_post": True,
                    "payment_token_id": token_of[partners[i % len(partners)].id].id,
                    "line_ids": [
                        Command.create(
                            {
                                "product_id": product.id,
                                "name": "Bench",
                                "quantity": 1,
                                "price_unit": 100.0 + i % 7,
                                "tax_ids": [Command.set(tax.ids)],
                            }
                        )
                    ],
                }
                for i in range(size)
            ]
        )
    )
    schedules.with_context(**quiet).action_start()
    Move = env["account.move"].with_context(**quiet)
    for i in range(0, size, 100):
        batch = schedules[i : i + 100]
        vals_list = [s._prepare_invoice_vals(s._due_periods(day)[0]) for s in batch]
        floor_vals = [{**v, "billing_schedule_id": False, "ref": tag} for v in vals_list]
        Move.create(vals_list).action_post()
        Move.create(floor_vals).action_post()
        env.cr.commit()
        env.invalidate_all()
    return {"schedules": len(schedules)}


def cmd_floor(env, tag, part="all"):
    """Odoo's own: one account.payment per invoice copy, with the customer's token,
    created in one batch and posted with one action_post per batch (which charges
    each token and post-processes each transaction), committed batch by batch. On
    all the copies, or on their first or second half (``part``)."""
    env.cr.execute(
        "SELECT id FROM account_move WHERE ref = %s AND state = 'posted' ORDER BY id", [tag]
    )
    invoices = env["account.move"].browse([r[0] for r in env.cr.fetchall()])
    if part != "all":
        invoices = halves(invoices)[part == "second"]
    tokens = {
        t.partner_id.id: t
        for t in env["payment.token"].search([("partner_id", "in", invoices.partner_id.ids)])
    }
    journal = _provider(env).journal_id
    method_line = journal.inbound_payment_method_line_ids.filtered(
        lambda line: line.payment_provider_id.code == "demo"
    )[:1]
    vals_list = [
        {
            "payment_type": "inbound",
            "partner_type": "customer",
            "partner_id": inv.partner_id.id,
            "amount": inv.amount_residual,
            "currency_id": inv.currency_id.id,
            "journal_id": journal.id,
            "payment_method_line_id": method_line.id,
            "payment_token_id": tokens[inv.partner_id.id].id,
            "memo": inv.name,
        }
        for inv in invoices
    ]
    batch = env["crm.billing.charge"]._CRON_BATCH_SIZE
    Payment = env["account.payment"]
    env.invalidate_all()
    env.cr.commit()
    profiler = profiled(f"collect_floor_{tag}" + ("" if part == "all" else f"_{part}"))
    start = time.monotonic()
    done = 0
    for i in range(0, len(vals_list), batch):
        payments = Payment.create(vals_list[i : i + batch])
        payments.action_post()
        done += len(payments.filtered(lambda p: p.payment_transaction_id.state == "done"))
        env.cr.commit()
        env.invalidate_all()
    seconds = time.monotonic() - start
    profile_done(profiler)
    return {"payments": done, "seconds": seconds, "rate": done / seconds}


def cmd_floor_register(env, tag, limit=0):
    """Odoo's own way of paying an invoice with a saved payment method and
    reconciling it: the Register Payment wizard (``account.payment.register``) on each
    invoice copy with its customer's token (``_create_payments``: create, post, which
    charges the token and post-processes the transaction, and reconcile), committed
    per batch of 50. One wizard per invoice: for several invoices at once the wizard
    takes no token. Run after ``cmd_floor``, which leaves the copies unpaid; on the
    first ``limit`` copies only, if given."""
    env.cr.execute(
        "SELECT id FROM account_move WHERE ref = %s AND state = 'posted'"
        " AND payment_state = 'not_paid' ORDER BY id",
        [tag],
    )
    invoices = env["account.move"].browse([r[0] for r in env.cr.fetchall()])
    if int(limit):
        invoices = invoices[: int(limit)]
    tokens = {
        t.partner_id.id: t.id
        for t in env["payment.token"].search([("partner_id", "in", invoices.partner_id.ids)])
    }
    journal = _provider(env).journal_id
    method_line = journal.inbound_payment_method_line_ids.filtered(
        lambda line: line.payment_provider_id.code == "demo"
    )[:1]
    work = [(inv.id, tokens[inv.partner_id.id]) for inv in invoices]
    batch = env["crm.billing.charge"]._CRON_BATCH_SIZE
    Register = env["account.payment.register"]
    env.invalidate_all()
    env.cr.commit()
    profiler = profiled(f"collect_register_{tag}")
    start = time.monotonic()
    done = 0
    for i in range(0, len(work), batch):
        for invoice_id, token_id in work[i : i + batch]:
            wizard = Register.with_context(
                active_model="account.move", active_ids=[invoice_id]
            ).create(
                {
                    "journal_id": journal.id,
                    "payment_method_line_id": method_line.id,
                    "payment_token_id": token_id,
                }
            )
            payments = wizard._create_payments()
            done += len(payments.filtered(lambda p: p.payment_transaction_id.state == "done"))
        env.cr.commit()
        env.invalidate_all()
    seconds = time.monotonic() - start
    profile_done(profiler)
    paid = env["account.move"].search_count(
        [("id", "in", invoices.ids), ("payment_state", "in", ("paid", "in_payment"))]
    )
    return {
        "payments": done,
        "invoices": len(invoices),
        "paid": paid,
        "seconds": seconds,
        "rate": done / seconds,
    }


def _charged(env, tag):
    env.cr.execute(
        "SELECT count(*) FROM crm_billing_charge c JOIN res_partner p ON p.id = c.partner_id"
        " WHERE p.ref = %s AND c.state = 'done'",
        [tag],
    )
    return env.cr.fetchone()[0]


def _schedule_invoices(env, tag):
    env.cr.execute(
        "SELECT m.id FROM account_move m JOIN res_partner p ON p.id = m.partner_id"
        " WHERE p.ref = %s AND m.billing_schedule_id IS NOT NULL ORDER BY m.id",
        [tag],
    )
    return [row[0] for row in env.cr.fetchall()]


def _set_aside(env, invoice_ids, aside):
    """Move the invoices' next charge date a century ahead (or back), so that the
    run leaves them for its second half."""
    env.cr.execute(
        "UPDATE account_move SET billing_next_charge_date = billing_next_charge_date + %s"
        " WHERE id = ANY(%s)",
        [36500 if aside else -36500, invoice_ids],
    )
    env.cr.commit()
    env.invalidate_all()


def cmd_run(env, tag, part="all"):
    """The collection cron, as the cron runs it, on the invoices due (``part``: which
    half they are, for the profile's name)."""
    before = _charged(env, tag)
    start = time.monotonic()
    profiler = profiled(f"collect_{tag}" + ("" if part == "all" else f"_{part}"))
    run_cron(env, "crm_billing.ir_cron_collect_payments")
    profile_done(profiler)
    seconds = time.monotonic() - start
    paid = _charged(env, tag) - before
    rss = batch_rss()
    return {
        "invoices": paid,
        "seconds": seconds,
        "rate": paid / seconds,
        "rss_mb": rss,
    }


def cmd_check(env, tag):
    """One charge and one transaction per invoice of the schedules, all paid."""
    env.cr.execute(
        """
        SELECT count(*),
               count(*) FILTER (WHERE m.payment_state IN ('paid', 'in_payment')),
               (SELECT count(*) FROM crm_billing_charge c WHERE c.invoice_id = ANY(array_agg(m.id))),
               (SELECT count(*) FROM account_invoice_transaction_rel r
                 WHERE r.invoice_id = ANY(array_agg(m.id)))
          FROM account_move m JOIN res_partner p ON p.id = m.partner_id
         WHERE p.ref = %s AND m.billing_schedule_id IS NOT NULL
        """,
        [tag],
    )
    invoices, paid, charges, transactions = env.cr.fetchone()
    ok = invoices == paid == charges == transactions
    return {
        "verdict": f"{'OK' if ok else 'FAILED'} ({invoices} invoices, {paid} paid, "
        f"{charges} charges, {transactions} transactions)"
    }


def cmd_compare(env, tag, register_limit=0):
    """The floor and the run interleaved in halves, in this process, each half on a
    cursor of its own and on vacuumed and analysed tables: the floor on the first
    half of the copies, the run on the first half of the invoices (the second half's
    next charge set a century ahead), the run on the second half, the floor on the
    second half of the copies; whatever the machine does meanwhile weighs on both
    alike (run back to back, the same code printed 0.65× to 0.84× at 300 invoices).
    Then floor 2 (on the first ``register_limit`` copies only, if given), and the
    check."""
    second = halves(_schedule_invoices(env, tag))[1]
    settle(env)
    floor_a = on_fresh_cursor(env, cmd_floor, tag, "first")
    _set_aside(env, second, True)
    settle(env)
    run_a = on_fresh_cursor(env, cmd_run, tag, "first")
    _set_aside(env, second, False)
    settle(env)
    run_b = on_fresh_cursor(env, cmd_run, tag, "second")
    settle(env)
    floor_b = on_fresh_cursor(env, cmd_floor, tag, "second")
    floor = sum_parts([floor_a, floor_b], "payments")
    run = sum_parts(
        [run_a, run_b],
        "invoices",
        rss_mb=max(run_a["rss_mb"], run_b["rss_mb"], key=lambda mb: mb[-1] - mb[0]),
    )
    register = {"skipped": True, "rate": 0.0, "paid": 0}
    if int(tag.lstrip("k")) <= REGISTER_FLOOR_MAX:
        register = on_fresh_cursor(env, cmd_floor_register, tag, register_limit)
    return {"floor": floor, "register": register, "run": run, "check": cmd_check(env, tag)}


COMMANDS = {
    "compare": cmd_compare,
    "info": cmd_info,
    "setup": cmd_setup,
    "floor": cmd_floor,
    "floor_register": cmd_floor_register,
    "run": cmd_run,
    "check": cmd_check,
}
