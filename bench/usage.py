# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Benchmark of usage ingestion and metered invoicing against Odoo itself.

    python3 bench/usage.py [--records 100000] [--batch 1000] [--schedules 100]
                           [--template DB] [--keep]

Finds Odoo 19 like bench/run.py, creates a throwaway database (a copy of
``--template``, else a fresh install of crm_billing), starts an Odoo server on it
and prints:

- ingestion of ``--records`` usage records spread over ``--schedules`` metered
  schedules, in batches of ``--batch``, each batch committed:
  the floor, Odoo's own ORM ``create`` of the same rows already resolved
  (``models.Model.create``: no line resolution nor duplicate check); with
  ``--with-orm``, crm_billing's ``create`` in the same process; and the same rows sent to the running server, one
  JSON-2 ``/json/2/crm.billing.usage/create`` call per batch, as an integration
  would: records/second and the ratio of each to the floor;
- the invoicing run on the same database: ``--schedules`` metered schedules with
  ``records / schedules`` usage records each in their due period, against as many
  fixed-quantity schedules, both invoiced by the run's engine
  (``_generate_invoices``) in committed batches of the cron's batch size: time
  per invoice and the ratio metered / fixed (target 1.3 at most).

Benchmark code, not addon code: it commits.
"""
# pylint: disable=invalid-commit,print-used

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import date, datetime, timedelta

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

from run import find_odoo, machine  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--schedules", type=int, default=100)
    parser.add_argument(
        "--with-orm", action="store_true", help="also time crm_billing's create in-process"
    )
    parser.add_argument("--template", help="copy this database instead of installing")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    args = parser.parse_args()

    odoo = find_odoo()
    rc, odoo_bin, addons = odoo.rc, odoo.bin, odoo.addons_path
    tmp = tempfile.mkdtemp(prefix="crm_billing_usage_bench.")
    os.makedirs(os.path.join(tmp, "addons"))
    os.symlink(ROOT, os.path.join(tmp, "addons", "crm_billing"))
    addons_path = f"{tmp}/addons,{addons}"
    db = f"crm_billing_usage_bench_{os.getpid()}"
    odoo_args = ["-c", rc, "--addons-path", addons_path, "-d", db, f"--data-dir={tmp}/data"]
    sys.path.insert(0, os.path.dirname(odoo_bin))
    import odoo
    from odoo.modules.registry import Registry
    from odoo.tools import config

    config.parse_config([*odoo_args, "--no-http", "--max-cron-threads=0"])
    print(f"crm_billing usage benchmark — {machine()}")
    print(f"Odoo 19 at {odoo_bin}, database {db}")

    def sql(statement):
        with odoo.sql_db.db_connect("postgres").cursor() as cr:
            cr._cnx.autocommit = True
            cr.execute(statement)

    odoo_cmd = [odoo.python, odoo_bin, *odoo_args, "--log-level=warn"]
    if args.template:
        sql(f'CREATE DATABASE "{db}" TEMPLATE "{args.template}"')
        install = [*odoo_cmd, "--no-http", "--stop-after-init", "-u", "crm_billing"]
    else:
        install = [
            *odoo_cmd,
            "--no-http",
            "--stop-after-init",
            "-i",
            "crm_billing",
            "--without-demo=all",
        ]
    with open(os.path.join(tmp, "install.log"), "w") as log:
        if subprocess.run(install, stdout=log, stderr=log, check=False).returncode:
            sys.exit(f"installing crm_billing failed, see {tmp}/install.log")
    port = 18990 + os.getpid() % 500
    server = subprocess.Popen(
        [
            *odoo_cmd,
            f"--http-port={port}",
            "--workers=0",
            "--max-cron-threads=0",
            f"--db-filter=^{db}$",
        ],
        stdout=open(os.path.join(tmp, "server.log"), "w"),
        stderr=subprocess.STDOUT,
    )
    try:
        registry = Registry(db)
        report = run(registry, args, port)
    finally:
        server.terminate()
        server.wait()
        if not args.keep:
            registry = None
            sql(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
    print(json.dumps(report))


def setup(env, args):
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
            for i in range(args.schedules)
        ]
    )
    tax = env["account.tax"].search(
        [("type_tax_use", "=", "sale"), ("company_id", "=", company.id)], limit=1
    )

    def schedules(metered):
        line = {
            "product_id": (product if metered else fixed_product).id,
            "name": "Data transfer" if metered else "Subscription",
            "quantity_source": "usage" if metered else "fixed",
            "pricing": "graduated" if metered else "unit",
            "price_unit": 0.10 if metered else 100.0,
            "included_quantity": 100.0 if metered else 0.0,
            "tax_ids": [Command.set(tax.ids)],
            "tier_ids": [
                Command.create({"up_to": 1000, "price_unit": 0.10}),
                Command.create({"up_to": 0, "price_unit": 0.05}),
            ]
            if metered
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
                    "line_ids": [Command.create(dict(line))],
                }
                for partner in partners
            ]
        )
        records.action_start()
        return records

    names = ("floor", "orm", "rpc") if args.with_orm else ("floor", "rpc")
    sets = {name: schedules(True) for name in names}
    fixed = schedules(False)
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
    return start, product, sets, fixed, key


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


def timed_batches(cr, rows, size, create):
    started = time.monotonic()
    for offset in range(0, len(rows), size):
        create(rows[offset : offset + size])
        cr.commit()
    return time.monotonic() - started


def run(registry, args, port):
    import odoo
    from odoo import api

    report = {}
    with registry.cursor() as cr:
        env = api.Environment(cr, odoo.SUPERUSER_ID, {})
        start, product, sets, fixed, key = setup(env, args)
        cr.commit()
        Usage = env["crm.billing.usage"]
        n = args.records

        floor_rows = rows_for(sets["floor"], product, start, n, "floor")
        floor = timed_batches(
            cr,
            floor_rows,
            args.batch,
            lambda batch: odoo.models.Model.create(Usage, batch),
        )
        orm = None
        if args.with_orm:
            orm_rows = rows_for(sets["orm"], product, start, n, "orm")
            for row in orm_rows:  # name the schedule and product, as an integration does
                del row["line_id"]
            orm = timed_batches(cr, orm_rows, args.batch, lambda batch: Usage.create(batch))
            env.invalidate_all()

        rpc_rows = rows_for(sets["rpc"], product, start, n, "rpc")
        for row in rpc_rows:
            del row["line_id"]
        wait_server(port)
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}

        def send(batch):
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/json/2/crm.billing.usage/create",
                data=json.dumps({"vals_list": batch}).encode(),
                headers=headers,
            )
            with urllib.request.urlopen(request, timeout=600) as response:
                assert len(json.loads(response.read())) == len(batch)

        rpc = timed_batches(cr, rpc_rows, args.batch, send)
        cr.execute("SELECT count(*) FROM crm_billing_usage")
        stored = cr.fetchone()[0]
        report["ingestion"] = {
            "records": n,
            "batch": args.batch,
            "floor_rps": round(n / floor),
            "rpc_rps": round(n / rpc),
            "rpc_ratio": round(floor / rpc, 2),
            "stored": stored,
        }
        in_process = ""
        if orm:
            report["ingestion"]["crm_billing_create_rps"] = round(n / orm)
            report["ingestion"]["orm_ratio"] = round(floor / orm, 2)
            in_process = f"crm_billing create {n / orm:.0f} rec/s (ratio {floor / orm:.2f}); "
        print(
            f"ingestion of {n} records in batches of {args.batch}: floor (Odoo's create) "
            f"{n / floor:.0f} rec/s; {in_process}JSON-2 RPC {n / rpc:.0f} rec/s "
            f"(ratio {floor / rpc:.2f}); {stored} records stored",
            flush=True,
        )

        # --- invoicing: metered against fixed, same run ---
        Schedule = env["crm.billing.schedule"]
        batch_size = Schedule._CRON_BATCH_SIZE
        today = date.today()

        def invoice(schedules):
            started = time.monotonic()
            count = 0
            for offset in range(0, len(schedules), batch_size):
                batch = Schedule.browse(schedules.ids[offset : offset + batch_size])
                count += len(batch._generate_invoices(today))
                cr.commit()
                env.invalidate_all()
            return (time.monotonic() - started) / max(count, 1) * 1000, count

        metered_ms, metered_count = invoice(sets["rpc"])
        fixed_ms, fixed_count = invoice(fixed)
        cr.execute(
            "SELECT count(*), count(invoice_line_id) FROM crm_billing_usage WHERE schedule_id IN %s",
            [tuple(sets["rpc"].ids)],
        )
        usage_count, invoiced = cr.fetchone()
        report["invoicing"] = {
            "schedules": len(fixed),
            "usage_per_schedule": n // len(fixed),
            "metered_ms_per_invoice": round(metered_ms, 1),
            "fixed_ms_per_invoice": round(fixed_ms, 1),
            "ratio": round(metered_ms / fixed_ms, 2),
            "invoices": [metered_count, fixed_count],
            "usage_invoiced": f"{invoiced}/{usage_count}",
        }
        print(
            f"invoicing run: {metered_count} metered invoices ({n // len(fixed)} usage records "
            f"each) {metered_ms:.1f} ms/invoice; {fixed_count} fixed-quantity invoices "
            f"{fixed_ms:.1f} ms/invoice; ratio {metered_ms / fixed_ms:.2f} (target <= 1.3); "
            f"usage records invoiced {invoiced}/{usage_count}"
        )
    return report


def wait_server(port):
    for _i in range(300):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/web/health", timeout=5)
            return
        except OSError:
            time.sleep(1)
    sys.exit("the Odoo server did not start")


if __name__ == "__main__":
    main()
