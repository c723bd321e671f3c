# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Benchmark of crm_billing's payment collection against Odoo itself.

    python3 bench/collect.py [--sizes 300,3000] [--keep] [--template DB]

Like bench/run.py (whose driver it reuses): a throwaway database with crm_billing
and payment_demo, its own data, every measurement in its own OS process on a real
committing cursor. For each size N it makes N posted invoices of running schedules
whose payment method is a payment_demo token that accepts every charge, and N
copies of them outside any schedule, then prints:

- the floor: Odoo's own ``account.payment`` create + ``action_post`` with the same
  tokens (which makes, charges and post-processes one offline transaction per
  payment), one batched create and one ``action_post`` per batch of the run's size,
  committed batch by batch;
- the run: ``_cron_collect_payments()`` as the cron runs it, on the schedules'
  invoices: each batch claimed, its charges and transactions committed before the
  provider is called, charged, post-processed by Odoo (payment posted and
  reconciled with the invoice) and committed;
- their ratio, and an SQL check: one charge and one transaction per invoice, every
  invoice paid.
"""
# pylint: disable=print-used

import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import run  # noqa: E402  (the invoicing benchmark's driver)


class CollectBench(run.Bench):
    def worker_cmd(self, *words):
        return [
            sys.executable,
            os.path.abspath(__file__),
            "--worker",
            json.dumps({"odoo_bin": self.odoo_bin, "odoo_args": self.odoo_args()}),
            *map(str, words),
        ]

    def create_db(self):
        odoo = [sys.executable, self.odoo_bin, *self.odoo_args(), "--no-http", "--stop-after-init"]
        if self.args.template:
            self.call_sql(f'CREATE DATABASE "{self.db}" TEMPLATE "{self.args.template}"')
            cmd = [*odoo, "-u", "crm_billing", "-i", "payment_demo"]
        else:
            cmd = [*odoo, "-i", "crm_billing,payment_demo", "--without-demo=all"]
        log = os.path.join(self.tmp, "install.log")
        with open(log, "w") as out:
            if subprocess.run(
                [*cmd, "--log-level=warn"], stdout=out, stderr=out, check=False
            ).returncode:
                sys.exit(f"installing crm_billing failed, see {log}")


def main_driver(args):
    bench = CollectBench(args)
    started = time.monotonic()
    sizes = [int(s) for s in args.sizes.split(",")]
    print(f"crm_billing collection benchmark — {run.machine()}")
    print(f"Odoo 19 at {bench.odoo_bin} (configuration {bench.rc}), database {bench.db}")
    bench.create_db()
    info = bench.call("info")
    print(f"PostgreSQL {info['postgres']}, collection batch size {info['batch_size']}")
    try:
        print()
        print(
            f"{'invoices':>8} {'floor pay/s':>12} {'run inv/s':>10} {'ratio':>6} "
            f"{'ms/invoice':>10} {'RSS MB first→last':>18}  exactly once"
        )
        for size in sizes:
            tag = f"c{size}"
            bench.call("setup", tag, size)
            floor = bench.call("floor", tag)
            result = bench.call("run", tag)
            check = bench.call("check", tag)
            ratio = result["rate"] / floor["rate"]
            rss = result["rss_mb"]
            print(
                f"{size:>8} {floor['rate']:>12.1f} {result['rate']:>10.1f} {ratio:>6.2f} "
                f"{1000 / result['rate']:>10.2f} {f'{rss[0]:.0f} → {rss[-1]:.0f}':>18}  "
                f"{check['verdict']}",
                flush=True,
            )
    finally:
        if args.keep:
            print(f"kept database {bench.db}")
        else:
            bench.drop_db()
    print(f"\nDone in {time.monotonic() - started:.0f} s")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="300,3000", help="invoices per measurement")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    parser.add_argument("--template", help="copy this database instead of installing")
    parser.add_argument("--db", help="name of the throwaway database")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args, rest = parser.parse_known_args()
    if args.worker:
        spec = json.loads(args.worker)
        sys.path.insert(0, os.path.dirname(spec["odoo_bin"]))
        import collect_worker

        collect_worker.main(spec, rest)
        return
    if rest:
        parser.error(f"unknown arguments {rest}")
    main_driver(args)


if __name__ == "__main__":
    main()
