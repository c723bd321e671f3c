# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Benchmark of crm_billing's invoicing and reminder runs against Odoo itself.

    python3 bench/run.py [--quick] [--keep] [--template DB]

Finds Odoo 19 and the Python that runs it with tools/odoo_env.py ($ODOO_RC, else
~/.odoorc; $ODOO_PYTHON, else an interpreter that imports Odoo), creates a throwaway database on
the configured PostgreSQL, installs crm_billing into it, creates its own data and
prints, for 300, 3,000 and 10,000 recurring schedules (one period due each):

- the floor: Odoo's own batched ``account.move.create`` + ``action_post`` of the
  very same one-line invoices (same partners, product, taxes, journal, dates);
- one worker running ``_cron_generate_invoices()`` on a real committing cursor,
  invoices/second, its ratio to the floor, time per invoice and the worker's
  memory (RSS) batch after batch;
- two workers (two OS processes) started at the same time on the same schedules:
  their throughput against one worker's, and an SQL check that every period is
  invoiced exactly once;
- auto-send: the run with auto_send on, then account's own sending cron
  rendering the PDFs and queueing the emails;
- the reminder run over overdue invoices of many customers, and an SQL check
  of one reminder per customer;
- customer statements for ``--statements`` customers (1,000): statements per
  second for the figures alone and for the whole HTML documents, then the monthly
  statement cron (one PDF and one email each) over ``--statements-pdf`` of them and
  its re-run, with an SQL check of one statement per customer and month.

Both sides post: the schedules have ``auto_post`` on, and the floor posts its
invoices with one batched ``action_post``, batch for batch like the run.

``--only statements`` runs the statement part alone. ``--quick`` measures 300 and
3,000 schedules only (a CI-sized check); ``--keep``
keeps the database; ``--template DB`` copies DB (with crm_billing's dependencies
installed) instead of installing into an empty database. The database is dropped
at the end unless ``--keep``. Not part of the tests: nothing here runs under
Odoo's test runner.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

#: schedules per customer, in every data set
SCHEDULES_PER_CUSTOMER = 5


# --- Finding Odoo ---------------------------------------------------------------


def find_odoo():
    """Odoo 19 and the Python that runs it, found by tools/odoo_env.py."""
    sys.path.insert(0, os.path.join(ROOT, "tools"))
    import odoo_env

    try:
        return odoo_env.find()
    except odoo_env.OdooNotFound as exc:
        sys.exit(f"Odoo 19 {exc}")


# --- Driver ---------------------------------------------------------------------


class Bench:
    def __init__(self, args):
        self.args = args
        odoo = find_odoo()
        self.rc, self.odoo_bin, self.python = odoo.rc, odoo.bin, odoo.python
        addons = odoo.addons_path
        self.tmp = tempfile.mkdtemp(prefix="crm_billing_bench.")
        os.makedirs(os.path.join(self.tmp, "addons"))
        os.symlink(ROOT, os.path.join(self.tmp, "addons", "crm_billing"))
        self.addons_path = f"{self.tmp}/addons,{addons}"
        self.db = args.db or f"crm_billing_bench_{os.getpid()}"

    def odoo_args(self):
        return ["-c", self.rc, "--addons-path", self.addons_path, "-d", self.db]

    def worker_cmd(self, *words):
        return [
            self.python,
            os.path.abspath(__file__),
            "--worker",
            json.dumps({"odoo_bin": self.odoo_bin, "odoo_args": self.odoo_args()}),
            *map(str, words),
        ]

    def start(self, *words):
        return subprocess.Popen(
            self.worker_cmd(*words),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def wait_ready(self, proc):
        line = proc.stdout.readline()
        if line.strip() != "ready":
            proc.wait()
            sys.exit(f"worker failed to start: {line}")

    def finish(self, proc):
        out, _err = proc.communicate()
        if proc.returncode:
            sys.exit(f"worker failed (exit {proc.returncode})")
        return json.loads(out.strip().splitlines()[-1])

    def call(self, *words):
        """Run one worker to the end, timed from its 'go' (after its registry loaded)."""
        proc = self.start(*words)
        self.wait_ready(proc)
        proc.stdin.write("go\n")
        proc.stdin.flush()
        return self.finish(proc)

    def parallel(self, n, *words):
        procs = [self.start(*words) for _i in range(n)]
        for proc in procs:
            self.wait_ready(proc)
        for proc in procs:
            proc.stdin.write("go\n")
            proc.stdin.flush()
        return [self.finish(proc) for proc in procs]

    # --- database ---

    def create_db(self):
        odoo = [self.python, self.odoo_bin, *self.odoo_args(), "--no-http", "--stop-after-init"]
        if self.args.template:
            self.call_sql(f'CREATE DATABASE "{self.db}" TEMPLATE "{self.args.template}"')
            cmd = [*odoo, "-u", "crm_billing"]
        else:
            cmd = [*odoo, "-i", "crm_billing", "--without-demo=all"]
        log = os.path.join(self.tmp, "install.log")
        with open(log, "w") as out:
            if subprocess.run(
                [*cmd, "--log-level=warn"], stdout=out, stderr=out, check=False
            ).returncode:
                sys.exit(f"installing crm_billing failed, see {log}")

    def drop_db(self):
        self.call_sql(f'DROP DATABASE IF EXISTS "{self.db}" WITH (FORCE)')

    def call_sql(self, sql, db="postgres"):
        cmd = self.worker_cmd("sql", db, sql)
        subprocess.run(cmd, check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)


def machine():
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next(
                line.split(":", 1)[1].strip() for line in info if line.startswith("model name")
            )
    except (OSError, StopIteration):
        pass
    with open("/proc/meminfo") as info:
        mem_kb = int(next(line.split()[1] for line in info if line.startswith("MemTotal")))
    return f"{os.cpu_count()} cores ({cpu}), {mem_kb / 2**20:.0f} GB RAM"


def statements_driver(bench, args):
    """Customer statements for ``--statements`` customers: the figures alone, the
    whole HTML documents, and the monthly run (PDF + email each) over
    ``--statements-pdf`` of them."""
    size = args.statements
    tag = f"st{size}"
    setup = bench.call("statements_setup", tag, size)
    print(
        f"Statements: {setup['customers']} customers, {setup['invoices']} invoices, "
        f"{setup['payments']} payments (activity statement of last month)"
    )
    figures = bench.call("statements_render", tag, "figures", 100)
    print(
        f"  figures (_get_statements, 100 customers a call): {figures['rate']:.1f} statements/s "
        f"({figures['lines']} lines in {figures['seconds']:.1f} s)",
        flush=True,
    )
    html = bench.call("statements_render", tag, "html", 100)
    print(
        f"  HTML documents (report, 100 a call): {html['rate']:.1f} statements/s "
        f"({html['seconds']:.1f} s, RSS {html['rss_mb']:.0f} MB)",
        flush=True,
    )
    if args.statements_pdf:
        pdf_tag = tag if args.statements_pdf == size else f"sp{args.statements_pdf}"
        if pdf_tag != tag:
            bench.call("statements_setup", pdf_tag, args.statements_pdf)
            # only the PDF set is opted in
            bench.call_sql(
                f"UPDATE res_partner SET billing_statement_monthly = NULL WHERE ref = '{tag}'",
                db=bench.db,
            )
        monthly = bench.call("statements_monthly", pdf_tag)
        rss = monthly["rss_mb"]
        print(
            f"  monthly run (PDF + email each, {monthly['customers']} customers): "
            f"{monthly['rate']:.2f} statements/s ({monthly['seconds']:.0f} s, "
            f"{monthly['pdf_calls']} wkhtmltopdf calls"
            f"{'' if monthly['patched_qt'] else ', unpatched Qt'}; RSS {rss[0]:.0f} → "
            f"{rss[-1]:.0f} MB); re-run {monthly['rerun_seconds']:.1f} s; {monthly['verdict']}",
            flush=True,
        )


def main_driver(args):
    bench = Bench(args)
    if args.only == "statements":
        started = time.monotonic()
        print(f"crm_billing benchmark (statements) — {machine()}")
        bench.create_db()
        try:
            statements_driver(bench, args)
        finally:
            if args.keep:
                print(f"kept database {bench.db}")
            else:
                bench.drop_db()
        print(f"\nDone in {time.monotonic() - started:.0f} s")
        return
    started = time.monotonic()
    sizes = [300, 3000] if args.quick else [300, 3000, 10000]
    pair_size = 3000
    print(f"crm_billing benchmark — {machine()}")
    print(f"Odoo 19 at {bench.odoo_bin} (configuration {bench.rc}), database {bench.db}")
    print(
        "Both sides post: schedules have auto_post on; the floor is one batched "
        "account.move.create + one action_post per batch of the same invoices."
    )
    bench.create_db()
    versions = bench.call("info")
    print(f"PostgreSQL {versions['postgres']}, batch size {versions['batch_size']}")
    results = {}
    try:
        print()
        print(
            f"{'schedules':>9} {'floor inv/s':>12} {'run inv/s':>10} {'ratio':>6} "
            f"{'ms/invoice':>10} {'RSS MB first→last batch (max)':>30}  exactly once"
        )
        for size in sizes:
            tag = f"s{size}"
            bench.call("setup", tag, size, 0)
            floor = bench.call("floor", tag)
            run = bench.call("run", tag)
            check = bench.call("check", tag)
            results[size] = (floor, run, check)
            ratio = run["rate"] / floor["rate"]
            rss = run["rss_mb"]
            print(
                f"{size:>9} {floor['rate']:>12.1f} {run['rate']:>10.1f} {ratio:>6.2f} "
                f"{1000 / run['rate']:>10.2f} "
                f"{f'{rss[0]:.0f} → {rss[-1]:.0f} ({max(rss):.0f})':>30}  {check['verdict']}",
                flush=True,
            )
        one = results[pair_size][1]
        print()
        tag = f"p{pair_size}"
        bench.call("setup", tag, pair_size, 0)
        pair = bench.parallel(2, "run", tag)
        check = bench.call("check", tag)
        start = min(r["start"] for r in pair)
        end = max(r["end"] for r in pair)
        invoices = sum(r["invoices"] for r in pair)
        rate = invoices / (end - start)
        print(
            f"Two workers on {pair_size} schedules: {rate:.1f} invoices/s "
            f"({' + '.join(str(r['invoices']) for r in pair)} invoices) = "
            f"{rate / one['rate']:.2f}× one worker ({one['rate']:.1f}/s); {check['verdict']}",
            flush=True,
        )
        print()
        send_size = 100
        tag = f"m{send_size}"
        bench.call("setup", tag, send_size, 1)
        run = bench.call("run", tag)
        check = bench.call("check", tag)
        send = bench.call("send", tag)
        print(
            f"Auto-send on {send_size} schedules: the run {run['rate']:.1f} invoices/s "
            f"(queued for sending); {check['verdict']}"
        )
        print(
            f"  account's sending cron: {send['rate']:.1f} invoices/s, {send['sent']} PDFs in "
            f"{send['pdf_calls']} wkhtmltopdf calls"
            f"{'' if send['patched_qt'] else ' (unpatched Qt: one document per call)'}, "
            f"{send['mails']} emails as mail.mail by state: {send['mail_states']}",
            flush=True,
        )
        print()
        reminder_customers = 600 if args.quick else 2000
        rem = bench.call("remind", f"s{sizes[-1]}")
        print(
            f"Reminder run: {rem['invoices']} overdue invoices of {rem['customers']} customers: "
            f"{rem['reminders']} reminders in {rem['seconds']:.1f} s = {rem['rate']:.1f} reminders/s "
            f"({rem['invoices'] / rem['seconds']:.1f} invoices/s); {rem['verdict']}"
        )
        assert rem["customers"] == reminder_customers, rem
        print()
        statements_driver(bench, args)
    finally:
        if args.keep:
            print(f"kept database {bench.db}")
        else:
            bench.drop_db()
    print(f"\nDone in {time.monotonic() - started:.0f} s")


# --- Workers (each one its own OS process, registry and cursor) -----------------


def worker(spec, words):
    sys.path.insert(0, HERE)
    import worker as impl

    return impl.main(spec, words)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="300 and 3,000 schedules only")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    parser.add_argument("--template", help="copy this database instead of installing")
    parser.add_argument("--db", help="name of the throwaway database")
    parser.add_argument(
        "--only", choices=["statements"], help="run only this part of the benchmark"
    )
    parser.add_argument(
        "--statements", type=int, default=1000, help="customers of the statement benchmark"
    )
    parser.add_argument(
        "--statements-pdf",
        type=int,
        default=1000,
        help="customers of the monthly statement run (PDF + email each); 0 to skip",
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args, rest = parser.parse_known_args()
    if args.worker:
        spec = json.loads(args.worker)
        sys.path.insert(0, os.path.dirname(spec["odoo_bin"]))
        worker(spec, rest)
        return
    if rest:
        parser.error(f"unknown arguments {rest}")
    main_driver(args)


if __name__ == "__main__":
    main()
