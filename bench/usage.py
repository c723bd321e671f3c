# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Usage ingestion and metered invoicing (see bench/benchlib.py for how workers run).

- ingestion of usage records in committed batches: the floor is Odoo's own ORM
  ``create`` of the same rows already resolved (``models.Model.create``: no line
  resolution nor duplicate check); against it crm_billing's ``create`` in the same
  process, and the same rows sent to a running server, one JSON-2
  ``/json/2/crm.billing.usage/create`` call per batch, as an integration would;
- the invoicing run's engine (``_generate_invoices``) in committed batches of the
  cron's size on metered schedules with their usage, against as many
  fixed-quantity schedules, in one process: time per invoice and the ratio
  metered / fixed (target 1.3 at most), for metered lines priced per unit with an
  allowance (one invoice line, like the fixed ones: the cost of metering) and for
  graduated tiers (one invoice line per tier reached: two), these also against
  fixed schedules of two lines (as many invoice lines). At least 30 invoices of
  each kind are timed (the ingested sets are topped up with schedules whose 1,000
  records each are copied by SQL), in three interleaved rounds.
"""
# pylint: disable=invalid-commit,print-used

import json
import os
import time
import urllib.request
from datetime import date, datetime, timedelta

from benchlib import profile_done, profiled

SETS = ("floor", "orm", "rpc", "fixed", "fixed2")

#: at least this many invoices of each kind are timed (one more is the warm-up): the
#: ingested sets are topped up with schedules whose usage is inserted by SQL
INVOICED_MIN = 31
#: the timed invoices of each kind are made in this many interleaved rounds
ROUNDS = 3


def _setup(env, schedules_count):
    """Metered schedules in three sets (floor, in-process, RPC), fixed ones, a user
    with an API key; every schedule postpaid monthly with last month due."""
    from odoo import Command

    today = date.today()
    start = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    company = env.company
    uom = env.ref("uom.product_uom_unit")
    product = env["product.product"].create(
        {"name": "Bench data (GB)", "type": "service", "list_price": 0.10, "uom_id": uom.id}
    )
    fixed_product = env["product.product"].create(
        {"name": "Bench subscription", "type": "service", "list_price": 100.0}
    )
    partners = env["res.partner"].create(
        [
            {"name": f"Bench usage customer {i}", "street": "1 Road", "city": "Cork"}
            for i in range(max(schedules_count, INVOICED_MIN))
        ]
    )
    tax = env["account.tax"].search(
        [("type_tax_use", "=", "sale"), ("company_id", "=", company.id)], limit=1
    )

    def schedules(metered, pricing="graduated", lines=1, count=schedules_count):
        line = {
            "product_id": (product if metered else fixed_product).id,
            "name": "Data transfer" if metered else "Subscription",
            "quantity_source": "usage" if metered else "fixed",
            "pricing": pricing if metered else "unit",
            "price_unit": 0.10 if metered else 100.0,
            "included_quantity": 100.0 if metered else 0.0,
            "tax_ids": [Command.set(tax.ids)],
            "tier_ids": [
                Command.create({"up_to": 1000, "price_unit": 0.10}),
                Command.create({"up_to": 0, "price_unit": 0.05}),
            ]
            if metered and pricing == "graduated"
            else [],
        }
        records = env["crm.billing.schedule"].create(
            [
                {
                    "partner_id": partner.id,
                    "rule_type": "monthly",
                    "date_start": start,
                    "invoicing_mode": "postpaid",
                    "auto_post": True,
                    "line_ids": [Command.create(dict(line)) for _i in range(lines)],
                }
                for partner in partners[:count]
            ]
        )
        records.action_start()
        return records

    # the "orm" set is priced per unit, the others by graduated tiers
    sets = {name: schedules(True, "unit" if name == "orm" else "graduated") for name in SETS[:3]}
    # the invoiced metered sets topped up (their usage is inserted before invoicing)
    extra = max(INVOICED_MIN - schedules_count, 0)
    sets["orm_extra"] = schedules(True, "unit", count=extra)
    sets["rpc_extra"] = schedules(True, "graduated", count=extra)
    sets["fixed"] = schedules(False, count=schedules_count + extra)
    # as many invoice lines as the graduated tiers make (two tiers reached)
    sets["fixed2"] = schedules(False, lines=2, count=schedules_count + extra)
    user = env["res.users"].create(
        {
            "name": "Bench meter",
            "login": f"bench_meter_{os.getpid()}",
            "group_ids": [
                Command.set(
                    [
                        env.ref("crm_billing.group_billing_manager").id,
                        env.ref("sales_team.group_sale_manager").id,
                    ]
                )
            ],
        }
    )
    key = (
        env["res.users.apikeys"]
        .with_user(user)
        .sudo()
        ._generate(scope="rpc", name="bench", expiration_date=datetime.now() + timedelta(days=1))
    )
    return start, product, sets, key


def rows_for(schedules, product, start, records, tag):
    per = records // len(schedules)
    return [
        {
            "schedule_id": schedule.id,
            "line_id": schedule.line_ids.id,
            "product_id": product.id,
            "date": (start + timedelta(days=i % 28)).isoformat(),
            "quantity": 1.0 + i % 7,
            "reference": f"{tag}-{schedule.id}-{i}",
        }
        for schedule in schedules
        for i in range(per)
    ]


def _state(env):
    param = env["ir.config_parameter"].sudo().get_param("crm_billing.bench_usage")
    return json.loads(param)


def cmd_usage_setup(env, schedules_count):
    """Metered schedules in three sets (floor, orm, rpc), fixed ones, a user with an
    API key; every schedule postpaid monthly with last month due."""
    start, product, sets, key = _setup(env, int(schedules_count))
    state = {
        "start": start.isoformat(),
        "product": product.id,
        "sets": {name: records.ids for name, records in sets.items()},
        "key": key,
    }
    env["ir.config_parameter"].sudo().set_param("crm_billing.bench_usage", json.dumps(state))
    return {"schedules": {name: len(ids) for name, ids in state["sets"].items()}}


def _rows(env, name, records):
    state = _state(env)
    schedules = env["crm.billing.schedule"].browse(state["sets"][name])
    start = date.fromisoformat(state["start"])
    per = int(records) // len(schedules)
    return [
        {
            "schedule_id": schedule.id,
            "line_id": schedule.line_ids.id,
            "product_id": state["product"],
            "date": (start + timedelta(days=i % 28)).isoformat(),
            "quantity": 1.0 + i % 7,
            "reference": f"{name}-{schedule.id}-{i}",
        }
        for schedule in schedules
        for i in range(per)
    ]


def _timed_batches(cr, rows, size, create):
    started = time.monotonic()
    for offset in range(0, len(rows), size):
        create(rows[offset : offset + size])
        cr.commit()
    return time.monotonic() - started


def cmd_usage_ingest(env, records, batch, port=0):
    """The three ingestions of ``records`` records each, one after the other."""
    from odoo import models

    batch = int(batch)
    Usage = env["crm.billing.usage"]
    floor_rows = _rows(env, "floor", records)
    env.cr.commit()
    floor = _timed_batches(env.cr, floor_rows, batch, lambda rows: models.Model.create(Usage, rows))
    orm_rows = _rows(env, "orm", records)
    for row in orm_rows:  # name the schedule and product, as an integration does
        del row["line_id"]
    env.invalidate_all()
    profiler = profiled("usage_create")
    orm = _timed_batches(env.cr, orm_rows, batch, Usage.create)
    profile_done(profiler)
    env.invalidate_all()
    result = {
        "records": len(floor_rows),
        "batch": batch,
        "floor_rps": len(floor_rows) / floor,
        "orm_rps": len(orm_rows) / orm,
    }
    if int(port):
        rpc_rows = _rows(env, "rpc", records)
        for row in rpc_rows:
            del row["line_id"]
        headers = {
            "Authorization": f"Bearer {_state(env)['key']}",
            "Content-Type": "application/json",
        }

        def post(path, payload):
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/json/2/crm.billing.usage/{path}",
                data=json.dumps(payload).encode(),
                headers=headers,
            )
            with urllib.request.urlopen(request, timeout=600) as response:
                return json.loads(response.read())

        post("search_count", {"domain": []})  # the server loads its registry first
        started = time.monotonic()
        for offset in range(0, len(rpc_rows), batch):
            rows = rpc_rows[offset : offset + batch]
            assert len(post("create", {"vals_list": rows})) == len(rows)
        result["rpc_rps"] = len(rpc_rows) / (time.monotonic() - started)
    env.cr.commit()  # a fresh snapshot: the server's records are seen
    env.cr.execute("SELECT count(*) FROM crm_billing_usage")
    result["stored"] = env.cr.fetchone()[0]
    return result


def cmd_usage_invoice(env):
    """The metered schedules priced per unit ("orm" set) and by graduated tiers
    ("rpc" set) and the fixed ones, invoiced back to back by the run's engine in
    committed batches of the cron's size."""
    state = _state(env)
    Schedule = env["crm.billing.schedule"]
    batch_size = Schedule._CRON_BATCH_SIZE
    day = date.today()
    cr = env.cr

    # the time of the metered invoices' own steps, measured as they run
    steps = dict.fromkeys(("aggregate", "link", "commit"), 0.0)

    def timed(cls, name, step):
        original = getattr(cls, name)

        def wrapper(self, *args, **kwargs):
            started = time.monotonic()
            try:
                return original(self, *args, **kwargs)
            finally:
                steps[step] += time.monotonic() - started

        setattr(cls, name, wrapper)

    timed(type(Schedule), "_load_usage", "aggregate")
    timed(type(env["account.move.line"]), "_link_billing_usage", "link")

    def invoice(ids, profiler=None):
        if profiler:
            profiler.enable()
        started = time.monotonic()
        count = 0
        for offset in range(0, len(ids), batch_size):
            batch = Schedule.browse(ids[offset : offset + batch_size])
            batch._lock_for_invoicing()
            count += len(batch._generate_invoices(day))
            committed = time.monotonic()
            cr.commit()
            steps["commit"] += time.monotonic() - committed
            env.invalidate_all()
        if profiler:
            profiler.disable()
        return time.monotonic() - started, count

    # the sets topped up get as many records per schedule as the ingested ones, the
    # same rows, by SQL (ingestion is measured above)
    sets = state["sets"]
    per = _usage_per_schedule(cr, sets["orm"])
    for extra, model_set in (("orm_extra", "orm"), ("rpc_extra", "rpc")):
        _insert_usage(env, sets[extra], sets[model_set][0], per, extra)
        sets[model_set] = sets[model_set] + sets[extra]
    # the usage table has just been filled: it is vacuumed (hint bits, visibility) and
    # its statistics brought up to date, as autovacuum has done long before a
    # period's usage is invoiced in real life
    cr.commit()
    cr._cnx.autocommit = True
    try:
        cr.execute("VACUUM ANALYZE crm_billing_usage")
    finally:
        cr._cnx.autocommit = False
    # one schedule of each kind first, untimed: the process's first invoices pay its
    # warm-up (trigger trees, caches), which would weigh on whichever came first
    for label in ("orm", "rpc", "fixed", "fixed2"):
        invoice(sets[label][:1])
    # the kinds are invoiced in interleaved rounds, each round in another order, so
    # that the machine's load and the growth of the tables weigh on all of them alike
    kinds = {
        "metered_unit": sets["orm"][1:],
        "metered": sets["rpc"][1:],
        "fixed": sets["fixed"][1:],
        "fixed2": sets["fixed2"][1:],
    }
    profilers = {}
    for label in kinds:
        profilers[label] = profiled(f"usage_invoice_{label}")
        if profilers[label]:
            profilers[label].disable()
    spent = dict.fromkeys(kinds, 0.0)
    counts = dict.fromkeys(kinds, 0)
    by_kind = {label: dict.fromkeys(steps, 0.0) for label in kinds}
    order = list(kinds)
    for round_ in range(ROUNDS):
        for label in order[round_ % len(order) :] + order[: round_ % len(order)]:
            ids = kinds[label]
            chunk = ids[len(ids) * round_ // ROUNDS : len(ids) * (round_ + 1) // ROUNDS]
            before = dict(steps)
            seconds, count = invoice(chunk, profilers[label])
            spent[label] += seconds
            counts[label] += count
            for step, value in steps.items():
                by_kind[label][step] += value - before[step]
    for profiler in profilers.values():
        profile_done(profiler)
    ms = {label: spent[label] / max(counts[label], 1) * 1000 for label in kinds}
    unit_ms, metered_ms, fixed_ms, fixed2_ms = (
        ms["metered_unit"],
        ms["metered"],
        ms["fixed"],
        ms["fixed2"],
    )
    unit_count, metered_count, fixed_count = (
        counts["metered_unit"],
        counts["metered"],
        counts["fixed"],
    )
    metered_ids = sets["orm"] + sets["rpc"]
    cr.execute(
        """
        SELECT count(*), count(link.usage_id)
          FROM crm_billing_usage u
          LEFT JOIN crm_billing_usage_link link ON link.usage_id = u.id
         WHERE u.schedule_id = ANY(%s)
        """,
        [metered_ids],
    )
    usage_count, invoiced = cr.fetchone()
    return {
        "usage_per_schedule": usage_count // max(len(metered_ids), 1),
        "unit_ms": unit_ms,
        "metered_ms": metered_ms,
        "fixed_ms": fixed_ms,
        "unit_ratio": unit_ms / fixed_ms,
        "ratio": metered_ms / fixed_ms,
        "fixed2_ms": fixed2_ms,
        "tier_ratio": metered_ms / fixed2_ms,
        "invoices": [unit_count, metered_count, fixed_count],
        # ms per invoice of each kind: usage aggregation, usage link, commit
        "steps": {
            label: {step: value / max(counts[label], 1) * 1000 for step, value in values.items()}
            for label, values in by_kind.items()
        },
        "usage_invoiced": invoiced,
        "usage": usage_count,
    }


def _usage_per_schedule(cr, schedule_ids):
    cr.execute("SELECT count(*) FROM crm_billing_usage WHERE schedule_id = ANY(%s)", [schedule_ids])
    return cr.fetchone()[0] // max(len(schedule_ids), 1)


def _insert_usage(env, schedule_ids, model_id, per, tag):
    """Copy the usage of schedule ``model_id`` (``per`` records) to each of
    ``schedule_ids`` with one INSERT, the schedule's own line, partner and references."""
    if not schedule_ids:
        return
    cr = env.cr
    cr.execute(
        """
        INSERT INTO crm_billing_usage
               (schedule_id, line_id, product_id, company_id, partner_id, date, quantity,
                reference, create_uid, write_uid, create_date, write_date)
        SELECT s.id, l.id, u.product_id, u.company_id, s.commercial_partner_id, u.date,
               u.quantity, %s || '-' || s.id || '-' || u.id, u.create_uid, u.write_uid,
               u.create_date, u.write_date
          FROM crm_billing_schedule s
          JOIN crm_billing_schedule_line l ON l.schedule_id = s.id
          JOIN crm_billing_usage u ON u.schedule_id = %s
         WHERE s.id = ANY(%s)
        """,
        [tag, model_id, schedule_ids],
    )
    assert cr.rowcount == per * len(schedule_ids), (cr.rowcount, per, len(schedule_ids))
    cr.commit()


COMMANDS = {
    "usage_setup": cmd_usage_setup,
    "usage_ingest": cmd_usage_ingest,
    "usage_invoice": cmd_usage_invoice,
}
