# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Benchmark of every crm_billing run against its floor, Odoo itself.

    python3 bench/run.py [--quick] [--only PART,...] [--keep] [--template DB]

Finds Odoo 19 and the Python that runs it with tools/odoo_env.py ($ODOO_RC, else
~/.odoorc; $ODOO_PYTHON, else an interpreter that imports Odoo), creates a throwaway
database on the configured PostgreSQL, installs crm_billing and payment_demo (and
OCA ``contract`` 19.0, downloaded from PyPI with ``pip download --no-deps``) into it,
makes its own data, prints every ratio and drops the database. The parts, in order:

- ``billing``: the invoicing run against its floor (Odoo's batched
  ``account.move.create`` of the same invoices, + one ``action_post`` per batch when
  the schedules post), for draft and for auto-posted invoices, at 300, 3,000 and
  10,000 schedules (``--quick``: 300), and OCA ``contract``'s run on the
  same schedules (draft, as contract makes them);
- ``pair``: two workers against one on twin sets of 1,000 schedules (3,000 in
  full), over the run's own span;
- ``age``: daily schedules started ten years ago against ones started today;
- ``catchup``: schedules 12 periods behind against 12 times as many one behind;
- ``remind``: the reminder run against Odoo's own batched sending of the same
  template in the same layout (``mail.template.send_mail_batch``: the template
  rendered for all records at once, one batched ``mail.mail`` create);
- ``collect``: charging posted invoices with saved payment methods against Odoo's
  own ``account.payment`` create + ``action_post`` with the same tokens;
- ``usage``: usage ingestion against Odoo's ``create``, and metered invoices
  against fixed ones;
- on request only (``--only``): ``send`` (auto-send and account's sending cron)
  and ``statements`` (customer statements).

Every measurement runs in its own OS process (bench/benchlib.py) on a real
committing cursor, timed once the registry is loaded; a floor and its run are
measured back to back in the same process, so that the machine's load weighs on
both. ``--keep`` keeps the database; ``--template DB`` copies DB (with
crm_billing's dependencies installed) instead of installing into an empty one.
$BENCH_PROFILE=DIR makes the runs write cProfile files into DIR. Not part of the
tests: nothing here runs under Odoo's test runner.
"""
# pylint: disable=print-used

import argparse
import glob
import os
import subprocess
import sys
import time
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from benchlib import Bench, machine, ratio, section  # noqa: E402

PARTS = ("collect", "usage", "billing", "age", "catchup", "pair", "remind")
EXTRA_PARTS = ("send", "statements")


def fetch_contract(python, directory):
    """OCA contract 19.0 from PyPI (its addon folder), or (None, why not)."""
    target = os.path.join(directory, "oca")
    try:
        done = subprocess.run(
            [
                python,
                "-m",
                "pip",
                "download",
                "odoo-addon-contract==19.0.*",
                "--no-deps",
                "-q",
                "-d",
                target,
            ],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        return None, str(error)
    wheels = glob.glob(os.path.join(target, "odoo_addon_contract-*.whl"))
    if done.returncode or not wheels:
        return None, (done.stderr or done.stdout).strip().splitlines()[-1:] or "no wheel"
    with zipfile.ZipFile(wheels[0]) as wheel:
        wheel.extractall(os.path.join(target, "x"))
    path = os.path.join(target, "x", "odoo", "addons", "contract")
    return (path, os.path.basename(wheels[0])) if os.path.isdir(path) else (None, "no addon")


# --- Parts ----------------------------------------------------------------------------


def billing(bench, args, sizes, contract, results):
    section("Billing run against its floor (one worker)")
    print(
        "floor = one batched account.move.create (+ one action_post when posting) per "
        "batch of 100 of the same invoices, committed batch by batch; floor, run and OCA "
        "contract interleaved in halves (floor, run, contract, contract, run, floor), each "
        "half on vacuumed and analysed tables"
    )
    header = (
        f"{'mode':>6} {'schedules':>9} {'floor inv/s':>12} {'run inv/s':>10} {'ratio':>6} "
        f"{'ms/inv':>7} {'RSS MB first→last':>18}"
    )
    if contract:
        header += f" {'OCA inv/s':>10} {'run/OCA':>8}"
    print(header + "  exactly once")
    for size in sizes:
        for mode, post in (("draft", 0), ("posted", 1)):
            tag = f"{mode[0]}{size}"
            with_contract = contract and not post
            r = bench.call("worker", "billing", tag, size, post, int(bool(with_contract)))
            results[(mode, size)] = r
            rss = r["run"]["rss_mb"]
            line = (
                f"{mode:>6} {size:>9} {r['floor']['rate']:>12.1f} {r['run']['rate']:>10.1f} "
                f"{ratio(r['run']['rate'], r['floor']['rate']):>6.2f} "
                f"{1000 / r['run']['rate']:>7.2f} {f'{rss[0]:.0f} → {rss[-1]:.0f}':>18}"
            )
            if contract:
                if with_contract:
                    oca = r["contract"]
                    line += f" {oca['rate']:>10.1f} {ratio(r['run']['rate'], oca['rate']):>8.2f}"
                else:
                    line += f" {'':>10} {'':>8}"
            print(f"{line}  {r['check']['verdict']}", flush=True)


def pair(bench, args, size):
    section(f"Two workers against one ({size} schedules each, posted)")
    print(
        "one worker on one set, in halves; two workers on a twin set between the halves; "
        "each run in fresh processes on settled tables, with the other schedules set aside; "
        "both sets in batches of the cron's size, so the two workers share them evenly"
    )
    one, two = f"v{size}", f"w{size}"
    bench.call("worker", "setup", one, size, 1)
    bench.call("worker", "setup", two, size, 1)
    bench.call("worker", "aside", two, 1)
    bench.call("worker", "aside", one, 1, "second")
    first = bench.call("worker", "run", one)
    bench.call("worker", "aside", two, 0)
    runs = bench.parallel(2, "worker", "run", two)
    bench.call("worker", "aside", one, 0, "second")
    second = bench.call("worker", "run", one)
    single = (first["invoices"] + second["invoices"]) / (first["seconds"] + second["seconds"])
    held = (first["sequence_held"] + second["sequence_held"]) / (
        first["seconds"] + second["seconds"]
    )
    span = max(r["end"] for r in runs) - min(r["start"] for r in runs)
    invoices = sum(r["invoices"] for r in runs)
    rate = invoices / span
    busy = " and ".join(f"{r['cores_busy']:.2f}" for r in runs)
    print(
        f"one worker: {single:.1f} invoices/s ({first['invoices']} + {second['invoices']} "
        f"invoices in {first['seconds']:.1f} + {second['seconds']:.1f} s), holding the "
        f"journal's sequence {100 * held:.0f}% of the time (from a batch's first number to "
        f"its commit), the machine's cores busy {first['cores_busy']:.2f} and "
        f"{second['cores_busy']:.2f} of {os.cpu_count()}; "
        f"{bench.call('worker', 'check', one)['verdict']}",
        flush=True,
    )
    print(
        f"two workers: {rate:.1f} invoices/s over the run's span "
        f"({' + '.join(str(r['invoices']) for r in runs)} invoices in {span:.1f} s) = "
        f"{ratio(rate, single):.2f}× one worker (cores busy {busy}); "
        f"{bench.call('worker', 'check', two)['verdict']}",
        flush=True,
    )


def age(bench, args, size):
    section(f"Flat in age: {size} daily schedules, one period due each (draft)")
    print("the two sets' runs interleaved in halves (today, 10 years, 10 years, today)")
    runs = bench.call("worker", "age", size)
    for label, days in (("started today", "0"), ("started 10 years ago", "3650")):
        run = runs[days]
        print(
            f"{label:>21}: {1000 / run['rate']:.1f} ms/invoice ({run['invoices']} invoices); "
            f"{run['verdict']}",
            flush=True,
        )
    ratio_ = ratio(runs["0"]["rate"], runs["3650"]["rate"])
    print(f"ten years old / today: {ratio_:.2f}× the time per invoice")


def catchup(bench, args, behind_schedules, behind):
    one_schedules = behind_schedules * behind
    section(
        f"Catch-up: {behind_schedules} schedules {behind} periods behind against "
        f"{one_schedules} one period behind (monthly, draft)"
    )
    print("the two sets' runs interleaved in halves (behind, one behind, one behind, behind)")
    runs = bench.call("worker", "catchup", behind_schedules, behind)
    for periods in (str(behind), "1"):
        run = runs[periods]
        rss = run["rss_mb"]
        print(
            f"{run['schedules']:>6} × {int(periods):>2} behind: {run['rate']:.1f} invoices/s "
            f"({run['invoices']} invoices in {run['batches']} committed batches, the largest "
            f"{run['batch_max']} invoices; RSS {rss[0]:.0f} → {rss[-1]:.0f} MB); "
            f"{run['verdict']}",
            flush=True,
        )
    print(
        "per-invoice rate, behind / one behind: "
        f"{ratio(runs[str(behind)]['rate'], runs['1']['rate']):.2f}"
    )


def remind(bench, args, size, billed):
    section("Reminder run against its floor")
    tag = f"p{size}"
    if not billed:
        # the billing part's posted invoices, made here when it did not run
        bench.call("worker", "setup", tag, size, 1)
        bench.call("worker", "run", tag)
    rem = bench.call("worker", "remind", tag)
    print(
        f"{rem['invoices']} overdue invoices of {rem['customers']} customers: the run "
        f"{rem['reminders']} reminders in {rem['seconds']:.1f} s = {rem['rate']:.1f}/s; floor "
        f"(Odoo's mail.template.send_mail_batch of each batch of 100, in the same layout; "
        f"each batch on a cursor of its own, rolled back, after an untimed "
        f"warm-up of both, timed before the run {rem['floor_before_seconds']:.1f} s and after "
        f"it {rem['floor_after_seconds']:.1f} s, averaged) {rem['floor_rate']:.1f}/s; "
        f"ratio {ratio(rem['rate'], rem['floor_rate']):.2f}; {rem['verdict']}",
        flush=True,
    )


def collect(bench, args, sizes, register_limit=0):
    section("Payment collection against its floor (payment_demo tokens)")
    print(
        "floor = Odoo's account.payment create + action_post with the same tokens, per "
        "batch of 50; run = the collection cron (charges, payments posted and reconciled); "
        "interleaved in halves (floor, run, run, floor), each on vacuumed tables"
    )
    print(
        "floor 2 = Odoo's Register Payment wizard (account.payment.register._create_payments: "
        "create, post, reconcile) on each invoice with the same tokens, per batch of 50 "
        f"(up to 1000 invoices{f'; the first {register_limit} of them' if register_limit else ''})"
    )
    print(
        f"{'invoices':>8} {'floor pay/s':>12} {'floor 2 pay/s':>14} {'run inv/s':>10} "
        f"{'ratio':>6} {'ratio 2':>8} {'ms/invoice':>10} {'RSS MB first→last':>18}  exactly once"
    )
    for size in sizes:
        tag = f"k{size}"
        bench.call("collect", "setup", tag, size)
        r = bench.call("collect", "compare", tag, register_limit)
        rss = r["run"]["rss_mb"]
        reg = None if r["register"].get("skipped") else r["register"]
        reg_rate = f"{reg['rate']:.1f}" if reg else "—"
        reg_ratio = f"{ratio(r['run']['rate'], reg['rate']):.2f}" if reg else "—"
        reg_paid = f"; floor 2 paid {reg['paid']}/{reg['invoices']}" if reg else "; floor 2 not run"
        print(
            f"{size:>8} {r['floor']['rate']:>12.1f} {reg_rate:>14} "
            f"{r['run']['rate']:>10.1f} "
            f"{ratio(r['run']['rate'], r['floor']['rate']):>6.2f} {reg_ratio:>8} "
            f"{1000 / r['run']['rate']:>10.2f} {f'{rss[0]:.0f} → {rss[-1]:.0f}':>18}  "
            f"{r['check']['verdict']}{reg_paid}",
            flush=True,
        )


def usage(bench, args, records, schedules):
    section(f"Usage: {records} records over {schedules} metered schedules")
    bench.call("usage", "usage_setup", schedules)
    port = bench.start_server()
    try:
        ing = bench.call("usage", "usage_ingest", records, 1000, port)
    finally:
        bench.stop_server()
    print(
        f"ingestion in batches of {ing['batch']}: floor (Odoo's create) {ing['floor_rps']:.0f} "
        f"rec/s; crm_billing create {ing['orm_rps']:.0f} rec/s "
        f"(ratio {ratio(ing['orm_rps'], ing['floor_rps']):.2f}); JSON-2 RPC "
        f"{ing['rpc_rps']:.0f} rec/s (ratio {ratio(ing['rpc_rps'], ing['floor_rps']):.2f}); "
        f"{ing['stored']} records stored",
        flush=True,
    )
    inv = bench.call("usage", "usage_invoice")
    print(
        f"invoicing ({inv['usage_per_schedule']} usage records per metered schedule): "
        f"{inv['invoices'][2]} fixed {inv['fixed_ms']:.1f} ms/invoice; "
        f"{inv['invoices'][0]} metered per unit {inv['unit_ms']:.1f} ms/invoice, ratio "
        f"{inv['unit_ratio']:.2f} (target ≤ 1.3); {inv['invoices'][1]} metered by graduated "
        f"tiers {inv['metered_ms']:.1f} ms/invoice, ratio {inv['ratio']:.2f} (one invoice "
        f"line per tier: two), against fixed schedules of two lines "
        f"{inv['fixed2_ms']:.1f} ms/invoice, ratio {inv['tier_ratio']:.2f} (target ≤ 1.3); "
        f"usage invoiced {inv['usage_invoiced']}/{inv['usage']}",
        flush=True,
    )
    steps = inv["steps"]
    print(
        "ms per invoice (usage aggregation / usage link / commit): "
        + "; ".join(
            f"{label} {s['aggregate']:.1f} / {s['link']:.1f} / {s['commit']:.1f}"
            for label, s in steps.items()
        ),
        flush=True,
    )


def send(bench, args):
    section("Auto-send on 100 schedules")
    tag = "m100"
    bench.call("worker", "setup", tag, 100, 1, 1)
    run = bench.call("worker", "run", tag)
    check = bench.call("worker", "check", tag)
    out = bench.call("worker", "send", tag)
    print(f"the run {run['rate']:.1f} invoices/s (queued for sending); {check['verdict']}")
    print(
        f"account's sending cron: {out['rate']:.1f} invoices/s, {out['sent']} PDFs in "
        f"{out['pdf_calls']} wkhtmltopdf calls"
        f"{'' if out['patched_qt'] else ' (unpatched Qt: one document per call)'}, "
        f"{out['mails']} emails as mail.mail by state: {out['mail_states']}",
        flush=True,
    )


def statements(bench, args):
    section(f"Customer statements ({args.statements} customers)")
    size = args.statements
    tag = f"st{size}"
    setup = bench.call("worker", "statements_setup", tag, size)
    print(
        f"{setup['customers']} customers, {setup['invoices']} invoices, "
        f"{setup['payments']} payments (activity statement of last month)"
    )
    for kind in ("figures", "html"):
        r = bench.call("worker", "statements_render", tag, kind, 100)
        print(
            f"  {kind}, 100 customers a call: {r['rate']:.1f} statements/s ({r['seconds']:.1f} s)"
        )
    monthly = bench.call("worker", "statements_monthly", tag)
    print(
        f"  monthly run (PDF + email each): {monthly['rate']:.2f} statements/s "
        f"({monthly['seconds']:.0f} s, {monthly['pdf_calls']} wkhtmltopdf calls); re-run "
        f"{monthly['rerun_seconds']:.1f} s; {monthly['verdict']}",
        flush=True,
    )


# --- Driver ---------------------------------------------------------------------------


def main_driver(args):
    started = time.monotonic()
    parts = args.only.split(",") if args.only else list(PARTS)
    unknown = set(parts) - set(PARTS) - set(EXTRA_PARTS)
    if unknown:
        sys.exit(f"unknown parts {sorted(unknown)}; choose among {PARTS + EXTRA_PARTS}")
    quick = args.quick
    # --quick: every part at a size that shows its ratio (about 4 minutes on two
    # cores); the full sizes are the (3,000 and 10,000)
    sizes = [300] if quick else [300, 3000, 10000]
    if args.sizes:
        sizes = [int(n) for n in args.sizes.split(",")]
    age_size = args.age or (50 if quick else 300)
    behind = args.catchup or (20 if quick else 1000)
    collect_sizes = args.collect or ("100" if quick else "300,3000")
    bench = Bench(args, modules=["crm_billing", "payment_demo"])
    contract, contract_note = None, "not asked for"
    if "billing" in parts and not args.no_contract:
        contract, contract_note = fetch_contract(bench.python, bench.tmp)
        if contract:
            bench.add_addon(contract, "contract")
    print(f"crm_billing benchmark{' (--quick)' if quick else ''} — {machine()}")
    print(f"Odoo 19 at {bench.odoo_bin} (configuration {bench.rc}), database {bench.db}")
    print(
        f"OCA contract: {contract_note if contract else f'not measured ({contract_note})'}; "
        f"parts: {', '.join(parts)}"
    )
    bench.create_db()
    info = bench.call("worker", "info")
    print(f"PostgreSQL {info['postgres']}, billing batch size {info['batch_size']}", flush=True)
    results = {}
    spent = [("install", time.monotonic() - started, bench.loading, bench.processes)]
    steps = {
        # floor 2 (a third of a second a payment) on 100 of the invoices, 30 with --quick
        "collect": lambda: collect(
            bench, args, [int(n) for n in collect_sizes.split(",")], 30 if quick else 100
        ),
        "usage": lambda: usage(bench, args, 10000 if quick else 100000, 10 if quick else 100),
        "billing": lambda: billing(bench, args, sizes, contract, results),
        "age": lambda: age(bench, args, age_size),
        "catchup": lambda: catchup(bench, args, behind, 12),
        "pair": lambda: pair(bench, args, args.pair or (1000 if quick else 3000)),
        "remind": lambda: remind(bench, args, sizes[-1], "billing" in parts),
        "send": lambda: send(bench, args),
        "statements": lambda: statements(bench, args),
    }
    try:
        first = True
        for part in (*PARTS, *EXTRA_PARTS):
            if part in parts:
                part_started, loading, processes = time.monotonic(), bench.loading, bench.processes
                if not first:
                    # the whole database vacuumed, analysed and checkpointed: a part
                    # does not start while autovacuum and the checkpointer work
                    # through the rows the one before wrote (after the usage part's
                    # 300,000, the billing part's first halves met them)
                    bench.vacuum_db()
                first = False
                steps[part]()
                spent.append(
                    (
                        part,
                        time.monotonic() - part_started,
                        bench.loading - loading,
                        bench.processes - processes,
                    )
                )
    finally:
        if args.keep:
            print(f"kept database {bench.db}")
        else:
            bench.drop_db()
    print(f"\nDone in {time.monotonic() - started:.0f} s:")
    for part, seconds, loading, processes in spent:
        print(
            f"  {part:>10} {seconds:>6.0f} s"
            + (
                f" ({processes} processes, {loading:.0f} s loading their registry)"
                if processes
                else ""
            )
        )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="every part at a small size (about 4 minutes on two cores)",
    )
    parser.add_argument("--only", help=f"comma-separated parts of {PARTS + EXTRA_PARTS}")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    parser.add_argument("--template", help="copy this database instead of installing")
    parser.add_argument("--db", help="name of the throwaway database")
    parser.add_argument(
        "--collect", help="invoices of the collection part, comma-separated (300,3000)"
    )
    parser.add_argument("--sizes", help="schedules of the billing part, comma-separated")
    parser.add_argument("--age", type=int, help="schedules of each age in the age part")
    parser.add_argument("--catchup", type=int, help="schedules 12 periods behind")
    parser.add_argument(
        "--pair", type=int, help="schedules of each set of the two-worker part (1000, 3000)"
    )
    parser.add_argument("--no-contract", action="store_true", help="skip OCA contract")
    parser.add_argument(
        "--statements", type=int, default=1000, help="customers of the statement part"
    )
    main_driver(parser.parse_args())


if __name__ == "__main__":
    main()
