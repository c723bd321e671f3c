# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The billing run's measurements (see bench/benchlib.py for how workers run):
invoicing against its floor, OCA ``contract``, age, catch-up, auto-send, the
reminder run against its floor, and customer statements."""
# pylint: disable=invalid-commit,print-used

import os
import time
from datetime import timedelta

from benchlib import (
    QUIET,
    Stats,
    batch_rss,
    halves,
    on_fresh_cursor,
    profile_done,
    profiled,
    rss_mb,
    run_cron,
    settle,
    sum_parts,
    tag_schedules,
    today,
)

# --- Commands -------------------------------------------------------------------


def cmd_info(env):
    env.cr.execute("SHOW server_version")
    return {
        "postgres": env.cr.fetchone()[0],
        "batch_size": env["crm.billing.schedule"]._CRON_BATCH_SIZE,
    }


def _product(env):
    from odoo import Command

    tax = env.company.account_sale_tax_id
    product = env["product.product"].search([("default_code", "=", "BENCH-SUB")], limit=1)
    return product or env["product.product"].create(
        {
            "name": "Bench subscription",
            "default_code": "BENCH-SUB",
            "type": "service",
            "list_price": 100.0,
            "taxes_id": [Command.set(tax.ids)],
        }
    )


def _partners(env, tag, count):
    return (
        env["res.partner"]
        .with_context(**QUIET)
        .create(
            [
                {
                    "name": f"Bench {tag} customer {i}",
                    "ref": tag,
                    "email": f"bench.{tag}.{i}@example.com",
                    "street": f"{i} Benchmark Road",
                    "city": "Brussels",
                }
                for i in range(max(count, 1))
            ]
        )
    )


def _schedules(env, tag, size, **vals):
    """``size`` one-line schedules of ``size / 5`` customers, created and started in
    committed batches of 1,000."""
    from odoo import Command

    tax = env.company.account_sale_tax_id
    product = _product(env)
    partners = _partners(env, tag, size // 5)
    Schedule = env["crm.billing.schedule"].with_context(**QUIET)
    ids = []
    for start in range(0, size, 1000):
        schedules = Schedule.create(
            [
                {
                    "partner_id": partners[i % len(partners)].id,
                    "line_ids": [
                        Command.create(
                            {
                                "product_id": product.id,
                                "name": "Bench subscription",
                                "quantity": 1,
                                "price_unit": 100.0 + i % 7,
                                "tax_ids": [Command.set(tax.ids)],
                            }
                        )
                    ],
                    **vals,
                }
                for i in range(start, min(start + 1000, size))
            ]
        )
        schedules.action_start()
        ids += schedules.ids
        env.cr.commit()
        env.invalidate_all()
    return env["crm.billing.schedule"].browse(ids), partners


def cmd_setup(env, tag, size, auto_post, auto_send=0):
    """``size`` running, open-ended quarterly schedules of ``size / 5`` customers, on
    the company's default sales journal, each with one one-line period due: it started
    40 days ago, prepaid, so its first period is invoiced on its first day, payable
    at once, and 40 days overdue; the next one starts in 50 days."""
    schedules, partners = _schedules(
        env,
        tag,
        int(size),
        rule_type="quarterly",
        interval=1,
        date_start=today(env) - timedelta(days=40),
        invoicing_mode="prepaid",
        auto_post=bool(int(auto_post)),
        auto_send=bool(int(auto_send)),
        payment_term_id=env.ref("account.account_payment_term_immediate").id,
    )
    return {"schedules": len(schedules), "partners": len(partners)}


def cmd_age_setup(env, tag, size, days_old):
    """``size`` running daily schedules started ``days_old`` days ago, every period
    but today's already invoiced (periods written with SQL): one period due each."""
    day = today(env)
    start = day - timedelta(days=int(days_old))
    schedules, _partners = _schedules(
        env,
        tag,
        int(size),
        rule_type="daily",
        interval=1,
        date_start=start,
        invoicing_mode="prepaid",
        auto_post=False,
    )
    if start < day:
        env.cr.execute(
            """
            INSERT INTO crm_billing_period
                   (schedule_id, company_id, partner_id, date_start, date_end, invoice_date,
                    factor, create_uid, write_uid, create_date, write_date)
            SELECT s.id, s.company_id, s.partner_id, d::date, d::date, d::date, 1, 1, 1,
                   now(), now()
              FROM crm_billing_schedule s, generate_series(%s::date, %s::date, '1 day') d
             WHERE s.id = ANY(%s)
            """,
            [start, day - timedelta(days=1), schedules.ids],
        )
        env.cr.execute(
            "UPDATE crm_billing_schedule SET next_invoice_date = %s WHERE id = ANY(%s)",
            [day, schedules.ids],
        )
        env.cr.commit()
    return {"schedules": len(schedules)}


def cmd_catchup_setup(env, tag, size, behind):
    """``size`` running monthly schedules (draft invoices), prepaid, started so that
    ``behind`` periods are due each."""
    from dateutil.relativedelta import relativedelta

    day = today(env)
    behind = int(behind)
    schedules, _partners = _schedules(
        env,
        tag,
        int(size),
        rule_type="monthly",
        interval=1,
        date_start=day - relativedelta(months=behind - 1),
        invoicing_mode="prepaid",
        auto_post=False,
    )
    return {"schedules": len(schedules)}


def _floor_vals(env, schedules):
    """The run's own invoice values of the schedules' due periods, less the schedule's
    link: what the floor creates, in the order the run takes them (by customer), so
    that the floor's batches hold the same invoices as the run's."""
    day = today(env)
    vals_list = []
    for schedule in schedules.sorted(lambda s: (s.commercial_partner_id.id, s.id)):
        for period in schedule._due_periods(day):
            vals = schedule._prepare_invoice_vals(period)
            vals.pop("billing_schedule_id")
            vals_list.append(vals)
    return vals_list


def cmd_floor(env, tag, vals_list=None):
    """Odoo's own speed: the same invoices as the run (the run's own values, less the
    schedule's link), in one batched create per batch of the run's size (and one
    action_post when the schedules post), committed batch by batch. The values are
    built before the clock starts."""
    schedules = tag_schedules(env, tag)
    post = all(schedules.mapped("auto_post"))
    if vals_list is None:
        vals_list = _floor_vals(env, schedules)
    batch = env["crm.billing.schedule"]._CRON_BATCH_SIZE
    Move = env["account.move"]
    env.invalidate_all()
    env.cr.commit()
    profiler = profiled(f"floor_{tag}_{os.getpid()}")
    start = time.monotonic()
    ids = []
    for i in range(0, len(vals_list), batch):
        moves = Move.create(vals_list[i : i + batch])
        if post:
            moves.action_post()
        ids += moves.ids
        env.cr.commit()
        env.invalidate_all()
    seconds = time.monotonic() - start
    profile_done(profiler)
    # the floor's invoices are a copy: keep them out of the reminder run
    env.cr.execute("UPDATE account_move SET reminder_excluded = true WHERE id = ANY(%s)", [ids])
    env.cr.commit()
    return {"invoices": len(ids), "seconds": seconds, "rate": len(ids) / seconds}


def machine_busy():
    """(busy, total) CPU ticks of the whole machine since boot."""
    with open("/proc/stat") as stat:
        ticks = [int(t) for t in stat.readline().split()[1:]]
    idle = ticks[3] + ticks[4]
    return sum(ticks) - idle, sum(ticks)


def _count_invoices():
    """Count the invoices this worker's run makes (two workers share the set)."""
    from odoo.addons.crm_billing.models.crm_billing_schedule_engine import CrmBillingSchedule

    original = CrmBillingSchedule._generate_invoices
    if getattr(original, "bench_counted", False):
        return
    Stats.invoices = 0

    def _generate_invoices(self, *args, **kwargs):
        invoices = original(self, *args, **kwargs)
        Stats.invoices += len(invoices)
        # one call per batch of the run: its size and the process's memory after it
        Stats.run_batches.append((len(invoices), rss_mb()))
        return invoices

    _generate_invoices.bench_counted = True
    CrmBillingSchedule._generate_invoices = _generate_invoices


def cmd_run(env, tag):
    """The invoicing cron, as the cron runs it."""
    _count_invoices()
    Stats.invoices = 0
    Stats.run_batches = []
    Stats.batches = []
    Stats.sequence_held, Stats.sequence_locked_at = 0.0, None
    busy0 = machine_busy()
    start_wall, start = time.time(), time.monotonic()
    profiler = profiled(f"run_{tag}_{os.getpid()}")
    run_cron(env, "crm_billing.ir_cron_generate_invoices")
    profile_done(profiler)
    seconds = time.monotonic() - start
    end_wall = time.time()
    busy1 = machine_busy()
    cores_busy = os.cpu_count() * (busy1[0] - busy0[0]) / max(busy1[1] - busy0[1], 1)
    invoices = sum(processed for _t, _rss, processed in Stats.batches)
    made = Stats.invoices
    rss = [round(mb, 1) for _count, mb in Stats.run_batches] or batch_rss()
    return {
        "invoices": made,
        "schedules": invoices,
        "seconds": seconds,
        "rate": made / seconds if seconds else 0.0,
        "start": start_wall,
        "end": end_wall,
        "rss_mb": rss,
        "batches": len(rss),
        "batch_max": max((count for count, _mb in Stats.run_batches), default=0),
        "cores_busy": round(cores_busy, 2),
        "sequence_held": Stats.sequence_held,
    }


def _set_aside(env, schedules, aside):
    """Move the schedules' next invoice date a century ahead (or back), so that the
    run leaves them for its second half."""
    env.cr.execute(
        "UPDATE crm_billing_schedule SET next_invoice_date = next_invoice_date + %s"
        " WHERE id = ANY(%s)",
        [36500 if aside else -36500, schedules.ids],
    )
    env.cr.commit()
    env.invalidate_all()


def cmd_aside(env, tag, aside, part="all"):
    """Set the schedules of ``tag`` aside (``aside`` 1) or back (0): all of them, or
    their first or second half (``part`` "first" / "second"); then settle the
    tables, so that the next run starts as the billing part's runs do."""
    schedules = tag_schedules(env, tag)
    if part != "all":
        schedules = halves(schedules)[part == "second"]
    _set_aside(env, schedules, bool(int(aside)))
    settle(env)
    return {"schedules": len(schedules)}


def _warm_up(env, schedules, floor_vals=(), contract_tag=None):
    """One run invoice (and one floor invoice, and one OCA contract invoice) made and
    rolled back, untimed: a process's first invoices pay its warm-up (the ORM's
    caches, Odoo's trigger trees, templates), which would weigh on whichever phase
    came first."""
    schedule = schedules[:1]
    schedule._generate_invoices(today(env))
    if floor_vals:
        moves = env["account.move"].create(list(floor_vals[:1]))
        if schedule.auto_post:
            moves.action_post()
    if contract_tag:
        env["contract.contract"].search(
            [("name", "=", f"Bench {contract_tag} {schedule.id}")]
        )._recurring_create_invoice()
    env.cr.rollback()
    env.invalidate_all()


def cmd_compare(env, tag, contract=0):
    """The floor and the run on the same schedules, interleaved in halves: the floor
    on the first half's invoices, the run on the first half, the run on the second
    half, the floor on the second half's invoices; each half starts on vacuumed and
    analysed tables. Measured back to back instead, whichever went second met the
    other's invoices in every table and index (3,000 more invoices at 3,000
    schedules) and the autovacuum they set off; in this order both meet the same
    table sizes on average. OCA contract's run, when measured, goes in the middle the
    same way (its first half, then its second), so that all three meet the same table
    sizes on average. Then the check."""
    first, second = halves(tag_schedules(env, tag))
    vals_first, vals_second = _floor_vals(env, first), _floor_vals(env, second)
    contract = int(contract)
    _warm_up(env, first, vals_first, tag if contract else None)
    settle(env)
    floor_a = on_fresh_cursor(env, cmd_floor, tag, vals_first)
    _set_aside(env, second, True)
    settle(env)
    run_a = on_fresh_cursor(env, cmd_run, tag)
    if contract:
        _set_aside_contracts(env, tag, second, True)
        settle(env)
        contract_a = on_fresh_cursor(env, cmd_contract_run, tag)
        _set_aside_contracts(env, tag, second, False)
        settle(env)
        contract_b = on_fresh_cursor(env, cmd_contract_run, tag)
    _set_aside(env, second, False)
    settle(env)
    run_b = on_fresh_cursor(env, cmd_run, tag)
    settle(env)
    floor_b = on_fresh_cursor(env, cmd_floor, tag, vals_second)
    env.invalidate_all()
    # memory batch by batch within one half of the run (the one that grew most):
    # between the halves the process also ran the floor and OCA contract
    run = sum_parts(
        [run_a, run_b],
        rss_mb=max(run_a["rss_mb"], run_b["rss_mb"], key=lambda mb: mb[-1] - mb[0]),
        batches=run_a["batches"] + run_b["batches"],
    )
    result = {"floor": sum_parts([floor_a, floor_b]), "run": run}
    if contract:
        result["contract"] = sum_parts([contract_a, contract_b])
    result["check"] = cmd_check(env, tag)
    return result


def _runs_interleaved(env, first_tag, second_tag):
    """The run on two sets of schedules, interleaved in halves (the first set's first
    half, the second set's first half, its second half, the first set's second
    half), each half on vacuumed and analysed tables with everything else set aside:
    both sets meet the same table sizes on average. Per set: the runs summed."""
    first, second = tag_schedules(env, first_tag), tag_schedules(env, second_tag)
    (a1, a2), (b1, b2) = halves(first), halves(second)
    _warm_up(env, first)
    _set_aside(env, first | second, True)
    runs = {first_tag: [], second_tag: []}
    for tag, part in ((first_tag, a1), (second_tag, b1), (second_tag, b2), (first_tag, a2)):
        _set_aside(env, part, False)
        settle(env)
        runs[tag].append(on_fresh_cursor(env, cmd_run, tag))
    return {
        tag: sum_parts(
            parts,
            rss_mb=[mb for part in parts for mb in part["rss_mb"]],
            batches=sum(part["batches"] for part in parts),
            batch_max=max(part["batch_max"] for part in parts),
        )
        for tag, parts in runs.items()
    }


def cmd_billing(env, tag, size, auto_post, contract=0):
    """The billing part of one mode in one process: the schedules (and OCA
    contract's contracts), then the interleaved comparison."""
    cmd_setup(env, tag, size, auto_post)
    if int(contract):
        cmd_contract_setup(env, tag)
    return cmd_compare(env, tag, contract)


def cmd_age(env, size):
    """Daily schedules started today against ones started ten years ago, in one
    process, interleaved: time per invoice of each, and the checks."""
    result = {}
    for days in (0, 3650):
        cmd_age_setup(env, f"a{days}", size, days)
    runs = _runs_interleaved(env, "a0", "a3650")
    for days in (0, 3650):
        tag = f"a{days}"
        result[days] = {**runs[tag], "verdict": cmd_check(env, tag)["verdict"]}
    return result


def cmd_catchup(env, behind_schedules, behind):
    """Schedules ``behind`` periods behind against ``behind`` times as many one period
    behind, in one process, interleaved: invoices per second of each, and the checks."""
    behind_schedules, behind = int(behind_schedules), int(behind)
    sets = ((behind_schedules, behind), (behind_schedules * behind, 1))
    for schedules, periods in sets:
        cmd_catchup_setup(env, f"c{schedules}x{periods}", schedules, periods)
    tags = [f"c{schedules}x{periods}" for schedules, periods in sets]
    runs = _runs_interleaved(env, *tags)
    return {
        periods: {
            **runs[tag],
            "schedules": schedules,
            "verdict": cmd_check(env, tag, periods)["verdict"],
        }
        for (schedules, periods), tag in zip(sets, tags, strict=True)
    }


# --- OCA contract -------------------------------------------------------------------


def cmd_contract_setup(env, tag):
    """One OCA ``contract.contract`` per schedule of the set, with the same customer,
    product, price, taxes, payment term, start and recurrence (quarterly, prepaid):
    one invoice due each."""
    from odoo import Command

    schedules = tag_schedules(env, tag)
    Contract = env["contract.contract"].with_context(**QUIET)
    created = 0
    for start in range(0, len(schedules), 1000):
        batch = schedules[start : start + 1000]
        Contract.create(
            [
                {
                    "name": f"Bench {tag} {schedule.id}",
                    "partner_id": schedule.partner_id.id,
                    "contract_type": "sale",
                    "line_recurrence": False,
                    "recurring_rule_type": "quarterly",
                    "recurring_interval": 1,
                    "recurring_invoicing_type": "pre-paid",
                    "date_start": schedule.date_start,
                    "payment_term_id": schedule.payment_term_id.id,
                    "contract_line_ids": [
                        Command.create(
                            {
                                "product_id": line.product_id.id,
                                "name": line.name,
                                "quantity": line.quantity,
                                "price_unit": line.price_unit,
                            }
                        )
                        for line in schedule.line_ids
                    ],
                }
                for schedule in batch
            ]
        )
        created += len(batch)
        env.cr.commit()
        env.invalidate_all()
    return {"contracts": created}


def _contract_invoices(env, tag):
    env.cr.execute(
        "SELECT count(DISTINCT l.move_id) FROM account_move_line l"
        " JOIN contract_line cl ON cl.id = l.contract_line_id"
        " JOIN contract_contract c ON c.id = cl.contract_id WHERE c.name LIKE %s",
        [f"Bench {tag} %"],
    )
    return env.cr.fetchone()[0]


def cmd_contract_run(env, tag):
    """OCA contract's invoicing cron (``_cron_recurring_create``, one batched create
    per company, draft invoices)."""
    before = _contract_invoices(env, tag)
    env.cr.commit()
    start = time.monotonic()
    run_cron(env, "contract.contract_cron_for_invoice")
    seconds = time.monotonic() - start
    invoices = _contract_invoices(env, tag) - before
    return {"invoices": invoices, "seconds": seconds, "rate": invoices / seconds}


def _set_aside_contracts(env, tag, schedules, aside):
    """The contracts of these schedules (see cmd_contract_setup), a century ahead or
    back, so that contract's cron leaves them for its second half."""
    names = [f"Bench {tag} {schedule.id}" for schedule in schedules]
    days = 36500 if aside else -36500
    env.cr.execute(
        "UPDATE contract_line SET recurring_next_date = recurring_next_date + %s"
        " WHERE contract_id IN (SELECT id FROM contract_contract WHERE name = ANY(%s))",
        [days, names],
    )
    env.cr.execute(
        "UPDATE contract_contract SET recurring_next_date = recurring_next_date + %s"
        " WHERE name = ANY(%s)",
        [days, names],
    )
    env.cr.commit()
    env.invalidate_all()


def cmd_check(env, tag, per_schedule=1):
    """Exactly once, checked in the database: every schedule of the set has exactly
    ``per_schedule`` invoiced periods, every such period its own invoice, no
    schedule is left due."""
    per_schedule = int(per_schedule)
    sql = """
        WITH s AS (
            SELECT s.id, s.state, s.next_invoice_date FROM crm_billing_schedule s
            JOIN res_partner p ON p.id = s.partner_id WHERE p.ref = %(tag)s
        ), per AS (
            SELECT per.* FROM crm_billing_period per JOIN s ON s.id = per.schedule_id
             WHERE per.invoice_id IS NOT NULL
        )
        SELECT
            (SELECT count(*) FROM s),
            (SELECT count(*) FROM per),
            (SELECT count(*) FROM (SELECT schedule_id, date_start FROM crm_billing_period
                                    WHERE schedule_id IN (SELECT id FROM s)
                                   GROUP BY 1, 2 HAVING count(*) > 1) d),
            (SELECT count(*) FROM (SELECT s.id FROM s LEFT JOIN per ON per.schedule_id = s.id
                                   GROUP BY s.id HAVING count(per.id) != %(per)s) w),
            (SELECT count(*) FROM account_move m JOIN s ON s.id = m.billing_schedule_id),
            (SELECT count(DISTINCT invoice_id) FROM per),
            (SELECT count(*) FROM s WHERE state != 'running' OR next_invoice_date <= %(today)s)
    """
    env.cr.execute(sql, {"tag": tag, "today": today(env), "per": per_schedule})
    schedules, periods, duplicates, wrong, invoices, distinct, open_ = env.cr.fetchone()
    ok = (
        duplicates == 0
        and wrong == 0
        and periods == schedules * per_schedule
        and invoices == periods
        and distinct == periods
        and open_ == 0
    )
    verdict = (
        f"exactly once: {'OK' if ok else 'FAILED'} ({periods} periods of {schedules} schedules, "
        f"{invoices} invoices, {duplicates} duplicates)"
    )
    return {"ok": ok, "verdict": verdict}


def cmd_send(env, tag):
    """Account's own sending cron, run until the set's invoices are all sent."""
    schedules = tag_schedules(env, tag)
    invoices = schedules.invoice_ids
    queued = len(invoices.filtered("sending_data"))
    from odoo.addons.base.models.ir_actions_report import _wkhtml

    patched = _wkhtml().is_patched_qt
    if not patched:
        # an unpatched wkhtmltopdf renders one document per call; account would hand it
        # several and fail: make account render one invoice per call
        env["ir.config_parameter"].set_param("account.pdf_generation_batch", "0")
    Stats.pdf_calls = Stats.pdf_documents = 0
    env.cr.commit()
    start = time.monotonic()
    runs = 0
    while True:
        run_cron(env, "account.ir_cron_account_move_send")
        runs += 1
        env.cr.execute(
            "SELECT count(*) FROM account_move WHERE id = ANY(%s) AND sending_data IS NOT NULL",
            [invoices.ids],
        )
        if not env.cr.fetchone()[0] or runs > len(invoices):
            break
    seconds = time.monotonic() - start
    env.cr.execute(
        "SELECT mm.state, count(*) FROM mail_mail mm JOIN mail_message msg ON msg.id = mm.mail_message_id"
        " WHERE msg.model = 'account.move' AND msg.res_id = ANY(%s) GROUP BY 1",
        [invoices.ids],
    )
    states = dict(env.cr.fetchall())
    env.cr.execute(
        "SELECT count(DISTINCT res_id) FROM ir_attachment WHERE res_model = 'account.move'"
        " AND res_field = 'invoice_pdf_report_file' AND res_id = ANY(%s)",
        [invoices.ids],
    )
    pdfs = env.cr.fetchone()[0]
    return {
        "queued": queued,
        "sent": pdfs,
        "seconds": seconds,
        "rate": pdfs / seconds if seconds else 0.0,
        "cron_runs": runs,
        "pdf_calls": Stats.pdf_calls,
        "pdf_documents": Stats.pdf_documents,
        "patched_qt": patched,
        "mails": sum(states.values()),
        "mail_states": states,
    }


def cmd_remind(env, tag):
    """The payment-reminder cron over the overdue invoices of one data set; every
    other invoice is excluded. Invoices are not attached (their PDFs are measured
    with auto-send). The floor is timed before the run and after it, after an
    untimed warm-up of both, and the two are averaged: timed only after the run, it
    found warm every cache (QWeb, templates, ORM) that the run had to fill."""
    env.cr.execute(
        "UPDATE account_move m SET reminder_excluded = true FROM res_partner p"
        " WHERE p.id = m.partner_id AND p.ref IS DISTINCT FROM %s AND m.move_type = 'out_invoice'"
        " AND m.reminder_excluded IS NOT TRUE",
        [tag],
    )
    env["crm.billing.reminder.level"].search([]).write({"attach_invoices": False})
    # at the end of the full run that UPDATE rewrites some 90,000 invoices: their
    # dead rows vacuumed and the statistics of the flag brought up to date, as
    # autovacuum would have done long before a reminder run
    settle(env)
    env.cr.execute(
        "SELECT count(*), count(DISTINCT commercial_partner_id) FROM account_move"
        " WHERE move_type = 'out_invoice' AND state = 'posted' AND reminder_excluded IS NOT TRUE"
        " AND payment_state = 'not_paid' AND invoice_date_due < %s",
        [today(env)],
    )
    invoices, customers = env.cr.fetchone()
    env.cr.commit()
    from odoo.tools import split_every

    _remind_warm_up(env)
    size = env["crm.billing.reminder"]._CRON_BATCH_SIZE
    partners = (
        env["crm.billing.reminder"].with_company(env.company)._get_partners_to_remind(today(env))
    )
    floor_before = _remind_floor(env, split_every(size, partners.ids, list), make=True)

    def run(phase_env):
        start = time.monotonic()
        profiler = profiled(f"remind_{tag}")
        run_cron(phase_env, "crm_billing.ir_cron_payment_reminders")
        profile_done(profiler)
        return time.monotonic() - start

    seconds = on_fresh_cursor(env, run)
    sent = env["crm.billing.reminder"].search([("date", "=", today(env))], order="id")
    floor_after = _remind_floor(env, split_every(size, sent.ids, list), make=False)
    floor_seconds = (floor_before["seconds"] + floor_after["seconds"]) / 2
    env.cr.execute(
        "SELECT count(*), count(DISTINCT partner_id) FROM crm_billing_reminder WHERE date = %s",
        [today(env)],
    )
    reminders, reminded = env.cr.fetchone()
    env.cr.execute(
        "SELECT count(*) FROM account_move m JOIN res_partner p ON p.id = m.partner_id"
        " WHERE p.ref = %s AND m.move_type = 'out_invoice' AND m.reminder_level_id IS NULL"
        " AND m.reminder_excluded IS NOT TRUE",
        [tag],
    )
    unreminded = env.cr.fetchone()[0]
    env.cr.execute(
        "SELECT state, count(*) FROM mail_mail WHERE mail_message_id IN"
        " (SELECT message_id FROM crm_billing_reminder WHERE date = %s) GROUP BY 1",
        [today(env)],
    )
    mails = dict(env.cr.fetchall())
    ok = reminders == customers and reminded == customers and unreminded == 0
    return {
        "floor_before_seconds": floor_before["seconds"],
        "floor_after_seconds": floor_after["seconds"],
        "floor_seconds": floor_seconds,
        "floor_rate": reminders / floor_seconds if floor_seconds else 0.0,
        "invoices": invoices,
        "customers": customers,
        "reminders": reminders,
        "seconds": seconds,
        "rate": reminders / seconds if seconds else 0.0,
        "mails": mails,
        "ok": ok,
        "verdict": (
            f"one per customer: {'OK' if ok else 'FAILED'} ({reminders} reminders, {reminded} "
            f"customers reminded of {customers}, {unreminded} invoices left without a level; "
            f"emails queued as mail.mail: {mails})"
        ),
    }


def _remind_warm_up(env):
    """One customer's reminder sent by the run and rendered by the floor, then rolled
    back, untimed: a process's first reminder pays its warm-up (QWeb compiling the
    templates and the layout, the ORM's caches), which would weigh on whichever of the
    run and the floor came first."""
    Reminder = env["crm.billing.reminder"].sudo().with_company(env.company)
    plans = Reminder._plan_reminders(today(env))
    reminders = Reminder._send_reminders(partners=plans[0].partner, companies=env.company)
    _remind_render(env, reminders)
    env.cr.rollback()
    env.invalidate_all()


def _remind_floor_reminders(env, partner_ids):
    """The reminders the run is about to send to these customers, recorded as it
    records them (invoices, portal tokens) but not sent, for the floor before the
    run to render (the floor's emails go to no recipient, see ``_remind_render``)."""
    day = today(env)
    Reminder = env["crm.billing.reminder"].sudo().with_company(env.company)
    plans = Reminder._plan_reminders(day, partners=env["res.partner"].browse(partner_ids))
    reminders = Reminder.create([Reminder._prepare_reminder_vals(plan, day) for plan in plans])
    Reminder._ensure_access_tokens(reminders.invoice_ids)
    return reminders


def _remind_render(env, reminders):
    """Odoo's own cost of the emails of ``reminders``: the template of each level
    sent with Odoo's own batched sending, ``mail.template.send_mail_batch``, in the
    layout the run's emails have (rendered for all of them at once, each body put in
    the layout, one ``mail.mail`` create whose messages keep the body). The template
    names no recipient: these emails go to none, where the run's go to the invoice
    contacts (one more row each)."""
    layout = env["crm.billing.customer.mail"]._customer_email_layout
    for template, group in reminders.grouped(lambda r: r.level_id.mail_template_id).items():
        template.send_mail_batch(group.ids, email_layout_xmlid=layout)
    env.flush_all()


def _remind_floor(env, batches, make):
    """The floor of the reminder run: ``_remind_render`` per batch of the cron's
    size, each batch on a cursor and transaction of its own, as the run commits
    and forgets each of its batches, and rolled back. ``batches`` are lists of
    customer ids (``make``: their reminders are first recorded, untimed, as the run
    would record them) or of reminder ids. (Rendered in one transaction of all
    batches, as slices of one recordset of every reminder, the floor slowed from 59
    reminders a second at 300 customers to 12 at 2,000.)"""
    from odoo import api

    env.cr.commit()
    seconds, count = 0.0, 0
    for ids in batches:
        with env.registry.cursor() as cr:
            batch_env = api.Environment(cr, env.uid, dict(env.context))
            if make:
                reminders = _remind_floor_reminders(batch_env, ids)
            else:
                reminders = batch_env["crm.billing.reminder"].browse(ids)
            batch_env.flush_all()
            start = time.monotonic()
            _remind_render(batch_env, reminders)
            seconds += time.monotonic() - start
            count += len(reminders)
            cr.rollback()
    env.invalidate_all()
    return {"seconds": seconds, "rate": count / seconds if seconds else 0.0}


# --- Customer statements ---------------------------------------------------------


def cmd_statements_setup(env, tag, customers):
    """``customers`` customers opted in to the monthly statement, each with an
    invoice of the month before last (its opening balance) and one of last month;
    every second customer paid last month's invoice last month."""
    from dateutil.relativedelta import relativedelta

    from odoo import Command

    customers = int(customers)
    day = today(env)
    last_month = day.replace(day=1) - relativedelta(months=1)
    quiet = {"tracking_disable": True, "mail_create_nolog": True, "mail_notrack": True}
    tax = env.company.account_sale_tax_id
    partners = (
        env["res.partner"]
        .with_context(**quiet)
        .create(
            [
                {
                    "name": f"Bench {tag} statement customer {i}",
                    "ref": tag,
                    "is_company": True,
                    "email": f"bench.{tag}.{i}@example.com",
                    "street": f"{i} Statement Street",
                    "city": "Brussels",
                    "billing_statement_monthly": True,
                }
                for i in range(customers)
            ]
        )
    )
    Move = env["account.move"].with_context(**quiet)
    term = env.ref("account.account_payment_term_30days")

    def vals(partner, when, price):
        return {
            "move_type": "out_invoice",
            "partner_id": partner.id,
            "invoice_date": when,
            "invoice_payment_term_id": term.id,
            "invoice_line_ids": [
                Command.create(
                    {
                        "name": "Bench service",
                        "quantity": 1,
                        "price_unit": price,
                        "tax_ids": [Command.set(tax.ids)],
                    }
                )
            ],
        }

    paid = Move
    for start in range(0, customers, 100):
        batch = partners[start : start + 100]
        older = Move.create([vals(p, last_month - relativedelta(months=1), 80.0) for p in batch])
        recent = Move.create([vals(p, last_month, 100.0 + i % 7) for i, p in enumerate(batch)])
        (older | recent).action_post()
        paid |= recent[::2]
        env.cr.commit()
    for start in range(0, len(paid), 100):
        env["account.payment.register"].with_context(
            active_model="account.move", active_ids=paid[start : start + 100].ids, **quiet
        ).create(
            {"payment_date": last_month + timedelta(days=15), "group_payment": False}
        )._create_payments()
        env.cr.commit()
    return {"customers": len(partners), "invoices": 2 * len(partners), "payments": len(paid)}


def _statement_partners(env, tag):
    return env["res.partner"].search([("ref", "=", tag), ("is_company", "=", True)], order="id")


def cmd_statements_render(env, tag, kind, batch):
    """Figures (``kind`` = figures) or the whole HTML document (``kind`` = html) of the
    activity statement of last month for every customer of the set, ``batch``
    customers per call."""
    from dateutil.relativedelta import relativedelta

    partners = _statement_partners(env, tag)
    batch = int(batch)
    first = today(env).replace(day=1) - relativedelta(months=1)
    data = {
        "statement_type": "activity",
        "date_from": str(first),
        "date_to": str(today(env).replace(day=1) - timedelta(days=1)),
    }
    Report = env["report.crm_billing.report_statement"]
    Actions = env["ir.actions.report"]
    env.invalidate_all()
    start = time.monotonic()
    lines = 0
    for i in range(0, len(partners), batch):
        chunk = partners[i : i + batch]
        if kind == "figures":
            for statement in Report._get_statements(chunk, data).values():
                lines += sum(len(section["lines"]) for section in statement["sections"])
        else:
            Actions._render_qweb_html("crm_billing.action_report_statement", chunk.ids, data=data)
        env.invalidate_all()
    seconds = time.monotonic() - start
    return {
        "statements": len(partners),
        "lines": lines,
        "seconds": seconds,
        "rate": len(partners) / seconds,
        "rss_mb": round(rss_mb(), 1),
    }


def cmd_statements_monthly(env, tag):
    """The monthly statement cron (one PDF and one email per customer), then again:
    the second run must send nothing."""
    from odoo.addons.base.models.ir_actions_report import _wkhtml

    partners = _statement_partners(env, tag)
    Stats.pdf_calls = Stats.pdf_documents = 0
    env.cr.commit()
    start = time.monotonic()
    run_cron(env, "crm_billing.ir_cron_monthly_statements")
    seconds = time.monotonic() - start
    env.cr.execute(
        "SELECT count(*), count(DISTINCT partner_id) FROM crm_billing_statement"
        " WHERE partner_id = ANY(%s) AND month IS NOT NULL",
        [partners.ids],
    )
    sent, customers = env.cr.fetchone()
    start2 = time.monotonic()
    run_cron(env, "crm_billing.ir_cron_monthly_statements")
    rerun_seconds = time.monotonic() - start2
    env.cr.execute(
        "SELECT count(*) FROM crm_billing_statement WHERE partner_id = ANY(%s)", [partners.ids]
    )
    after = env.cr.fetchone()[0]
    env.cr.execute(
        "SELECT mm.state, count(*) FROM mail_mail mm JOIN mail_message msg"
        " ON msg.id = mm.mail_message_id WHERE msg.model = 'res.partner'"
        " AND msg.res_id = ANY(%s) GROUP BY 1",
        [partners.ids],
    )
    mails = dict(env.cr.fetchall())
    rss = [round(mb, 1) for _t, mb, processed in Stats.batches if processed]
    ok = sent == len(partners) and customers == len(partners) and after == sent
    return {
        "customers": len(partners),
        "sent": sent,
        "seconds": seconds,
        "rate": sent / seconds if seconds else 0.0,
        "rerun_seconds": rerun_seconds,
        "pdf_calls": Stats.pdf_calls,
        "patched_qt": _wkhtml().is_patched_qt,
        "rss_mb": rss or [rss_mb()],
        "mails": mails,
        "ok": ok,
        "verdict": (
            f"one per customer: {'OK' if ok else 'FAILED'} ({sent} statements for {customers} "
            f"customers of {len(partners)}; re-run sent {after - sent}; emails as mail.mail: "
            f"{mails})"
        ),
    }


COMMANDS = {
    "info": cmd_info,
    "billing": cmd_billing,
    "age": cmd_age,
    "catchup": cmd_catchup,
    "compare": cmd_compare,
    "age_setup": cmd_age_setup,
    "catchup_setup": cmd_catchup_setup,
    "contract_setup": cmd_contract_setup,
    "contract_run": cmd_contract_run,
    "setup": cmd_setup,
    "floor": cmd_floor,
    "run": cmd_run,
    "aside": cmd_aside,
    "check": cmd_check,
    "send": cmd_send,
    "remind": cmd_remind,
    "statements_setup": cmd_statements_setup,
    "statements_render": cmd_statements_render,
    "statements_monthly": cmd_statements_monthly,
}
