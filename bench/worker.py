# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""One benchmark worker: an OS process with its own Odoo registry and cursor.

Started by bench/run.py as ``run.py --worker SPEC COMMAND ARGS...``; it loads the
registry, prints ``ready``, waits for ``go`` on its standard input (so that the
clock never counts the registry's loading and two workers start together), does
its command on a real committing cursor and prints one JSON line of results.

This is benchmark code, not addon code: it commits, and it reads and writes with
SQL where only the benchmark's bookkeeping is concerned.
"""
# pylint: disable=invalid-commit,print-used

import json
import os
import sys
import time
from datetime import timedelta

PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_mb():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * PAGE / 2**20


class Stats:
    """What the instrumented ``ir.cron._commit_progress`` saw, batch by batch."""

    batches = []  # (monotonic time, RSS MB, processed)


def instrument():
    from odoo.addons.base.models.ir_cron import IrCron

    original = IrCron._commit_progress

    def _commit_progress(self, processed=0, **kwargs):
        result = original(self, processed, **kwargs)
        Stats.batches.append((time.monotonic(), rss_mb(), processed))
        return result

    IrCron._commit_progress = _commit_progress

    from odoo.addons.base.models.ir_actions_report import IrActionsReport

    render = IrActionsReport._run_wkhtmltopdf

    def _run_wkhtmltopdf(self, bodies, *args, **kwargs):
        Stats.pdf_calls = getattr(Stats, "pdf_calls", 0) + 1
        Stats.pdf_documents = getattr(Stats, "pdf_documents", 0) + len(bodies)
        return render(self, bodies, *args, **kwargs)

    IrActionsReport._run_wkhtmltopdf = _run_wkhtmltopdf


def run_cron(env, xmlid):
    """Run a scheduled action's code the way ir.cron's job runner does: as the cron's
    user, with a progress record in the context, on this committing cursor."""
    cron = env.ref(xmlid)
    cron = cron.with_user(cron.user_id).with_context(lastcall=cron.lastcall, cron_id=cron.id)
    cron, progress = cron._add_progress()
    env.cr.commit()
    cron._callback(cron.cron_name, cron.ir_actions_server_id.id)
    return progress


def today(env):
    from odoo import fields

    return fields.Date.context_today(env["crm.billing.schedule"])


def tag_schedules(env, tag):
    env.cr.execute(
        "SELECT s.id FROM crm_billing_schedule s JOIN res_partner p ON p.id = s.partner_id"
        " WHERE p.ref = %s ORDER BY s.id",
        [tag],
    )
    return env["crm.billing.schedule"].browse([row[0] for row in env.cr.fetchall()])


# --- Commands -------------------------------------------------------------------


def cmd_info(env):
    env.cr.execute("SHOW server_version")
    return {
        "postgres": env.cr.fetchone()[0],
        "batch_size": env["crm.billing.schedule"]._CRON_BATCH_SIZE,
    }


def cmd_setup(env, tag, size, auto_send):
    """``size`` running, open-ended quarterly schedules of ``size / 5`` customers, on
    the company's default sales journal, each with one one-line period due: it started
    40 days ago, prepaid, so its first period is invoiced on its first day, payable
    at once, and 40 days overdue; the next one starts in 50 days."""
    from odoo import Command

    size, auto_send = int(size), bool(int(auto_send))
    company = env.company
    day = today(env)
    tax = company.account_sale_tax_id
    product = env["product.product"].search([("default_code", "=", "BENCH-SUB")], limit=1)
    if not product:
        product = env["product.product"].create(
            {
                "name": "Bench subscription",
                "default_code": "BENCH-SUB",
                "type": "service",
                "list_price": 100.0,
                "taxes_id": [Command.set(tax.ids)],
            }
        )
    immediate = env.ref("account.account_payment_term_immediate")
    quiet = {"tracking_disable": True, "mail_create_nolog": True, "mail_notrack": True}
    partners = (
        env["res.partner"]
        .with_context(**quiet)
        .create(
            [
                {
                    "name": f"Bench {tag} customer {i}",
                    "ref": tag,
                    "email": f"bench.{tag}.{i}@example.com",
                    "street": f"{i} Benchmark Road",
                    "city": "Brussels",
                }
                for i in range(size // 5)
            ]
        )
    )
    schedules = (
        env["crm.billing.schedule"]
        .with_context(**quiet)
        .create(
            [
                {
                    "partner_id": partners[i % len(partners)].id,
                    "rule_type": "quarterly",
                    "interval": 1,
                    "date_start": day - timedelta(days=40),
                    "invoicing_mode": "prepaid",
                    "auto_post": True,
                    "auto_send": auto_send,
                    "payment_term_id": immediate.id,
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
                }
                for i in range(size)
            ]
        )
    )
    schedules.with_context(**quiet).action_start()
    env.cr.commit()
    return {"schedules": len(schedules), "partners": len(partners)}


def cmd_floor(env, tag):
    """Odoo's own speed: the same invoices as the run (the run's own values, less the
    schedule's link), in one batched create + one action_post per batch of the run's
    size, committed batch by batch. The values are built before the clock starts."""
    schedules = tag_schedules(env, tag)
    day = today(env)
    vals_list = []
    for schedule in schedules:
        for period in schedule._due_periods(day):
            vals = schedule._prepare_invoice_vals(period)
            vals.pop("billing_schedule_id")
            vals_list.append(vals)
    batch = env["crm.billing.schedule"]._CRON_BATCH_SIZE
    Move = env["account.move"]
    env.invalidate_all()
    env.cr.commit()
    start = time.monotonic()
    ids = []
    for i in range(0, len(vals_list), batch):
        moves = Move.create(vals_list[i : i + batch])
        moves.action_post()
        ids += moves.ids
        env.cr.commit()
        env.invalidate_all()
        Stats.batches.append((time.monotonic(), rss_mb(), len(moves)))
    seconds = time.monotonic() - start
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


def backend_cpu(env):
    """CPU seconds used so far by this cursor's PostgreSQL backend (same machine)."""
    env.cr.execute("SELECT pg_backend_pid()")
    try:
        with open(f"/proc/{env.cr.fetchone()[0]}/stat") as stat:
            fields_ = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields_[11]) + int(fields_[12])) / os.sysconf("SC_CLK_TCK")


def cmd_run(env, tag):
    """The invoicing cron, as the cron runs it."""
    pg0 = backend_cpu(env)
    busy0, cpu0 = machine_busy(), time.process_time()
    start_wall, start = time.time(), time.monotonic()
    profile = os.environ.get("BENCH_PROFILE")
    if profile:
        import pyinstrument

        profiler = pyinstrument.Profiler(interval=0.002)
        profiler.start()
    run_cron(env, "crm_billing.ir_cron_generate_invoices")
    seconds = time.monotonic() - start
    end_wall = time.time()
    if profile:
        profiler.stop()
        with open(profile, "w") as out:
            out.write(profiler.output_text(unicode=True, color=False, show_all=False))
    busy1, cpu1 = machine_busy(), time.process_time()
    pg1 = backend_cpu(env)
    cores_busy = os.cpu_count() * (busy1[0] - busy0[0]) / max(busy1[1] - busy0[1], 1)
    invoices = sum(processed for _t, _rss, processed in Stats.batches)
    env.cr.execute(
        "SELECT count(*) FROM crm_billing_period per JOIN crm_billing_schedule s ON s.id = per.schedule_id"
        " JOIN res_partner p ON p.id = s.partner_id WHERE p.ref = %s",
        [tag],
    )
    done = env.cr.fetchone()[0]
    rss = [round(mb, 1) for _t, mb, processed in Stats.batches if processed]
    return {
        "invoices": invoices,
        "periods_of_tag": done,
        "seconds": seconds,
        "rate": invoices / seconds if seconds else 0.0,
        "start": start_wall,
        "end": end_wall,
        "rss_mb": rss or [rss_mb()],
        "batches": len(rss),
        "cores_busy": round(cores_busy, 2),
        "worker_cpu": round((cpu1 - cpu0) / seconds, 2) if seconds else 0.0,
        "postgres_cpu": round((pg1 - pg0) / seconds, 2) if seconds else 0.0,
    }


def cmd_check(env, tag):
    """Exactly once, checked in the database: every schedule of the set has exactly
    one period, every period its own invoice, no schedule is left due."""
    sql = """
        WITH s AS (
            SELECT s.id, s.state, s.next_invoice_date FROM crm_billing_schedule s
            JOIN res_partner p ON p.id = s.partner_id WHERE p.ref = %(tag)s
        ), per AS (
            SELECT per.* FROM crm_billing_period per JOIN s ON s.id = per.schedule_id
        )
        SELECT
            (SELECT count(*) FROM s),
            (SELECT count(*) FROM per),
            (SELECT count(*) FROM (SELECT schedule_id, date_start FROM per
                                   GROUP BY 1, 2 HAVING count(*) > 1) d),
            (SELECT count(*) FROM (SELECT s.id FROM s LEFT JOIN per ON per.schedule_id = s.id
                                   GROUP BY s.id HAVING count(per.id) != 1) w),
            (SELECT count(*) FROM account_move m JOIN s ON s.id = m.billing_schedule_id),
            (SELECT count(DISTINCT invoice_id) FROM per),
            (SELECT count(*) FROM s WHERE state != 'running' OR next_invoice_date <= %(today)s)
    """
    env.cr.execute(sql, {"tag": tag, "today": today(env)})
    schedules, periods, duplicates, wrong, invoices, distinct, open_ = env.cr.fetchone()
    ok = (
        duplicates == 0
        and wrong == 0
        and periods == schedules
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
    with auto-send)."""
    env.cr.execute(
        "UPDATE account_move m SET reminder_excluded = true FROM res_partner p"
        " WHERE p.id = m.partner_id AND p.ref IS DISTINCT FROM %s AND m.move_type = 'out_invoice'",
        [tag],
    )
    env["crm.billing.reminder.level"].search([]).write({"attach_invoices": False})
    env.cr.execute(
        "SELECT count(*), count(DISTINCT commercial_partner_id) FROM account_move"
        " WHERE move_type = 'out_invoice' AND state = 'posted' AND reminder_excluded IS NOT TRUE"
        " AND payment_state = 'not_paid' AND invoice_date_due < %s",
        [today(env)],
    )
    invoices, customers = env.cr.fetchone()
    env.cr.commit()
    start = time.monotonic()
    run_cron(env, "crm_billing.ir_cron_payment_reminders")
    seconds = time.monotonic() - start
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
    "setup": cmd_setup,
    "floor": cmd_floor,
    "run": cmd_run,
    "check": cmd_check,
    "send": cmd_send,
    "remind": cmd_remind,
    "statements_setup": cmd_statements_setup,
    "statements_render": cmd_statements_render,
    "statements_monthly": cmd_statements_monthly,
}


def main(spec, words):
    import odoo
    from odoo import SUPERUSER_ID, api
    from odoo.tools import config

    config.parse_config([*spec["odoo_args"], "--log-level=warn", "--no-http"])
    command, *args = words
    if command == "sql":
        db, sql = args
        connection = odoo.sql_db.db_connect(db)
        with connection.cursor() as cr:
            cr._cnx.autocommit = True
            cr.execute(sql)
        return
    instrument()
    from odoo.modules.registry import Registry

    registry = Registry(
        config["db_name"][0] if isinstance(config["db_name"], list) else config["db_name"]
    )
    print("ready", flush=True)
    if sys.stdin.readline().strip() != "go":
        sys.exit(1)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        result = COMMANDS[command](env, *args)
        cr.commit()
    print(json.dumps(result, default=str), flush=True)
