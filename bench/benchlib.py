# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""What every part of the benchmark shares: finding Odoo, the throwaway database,
the worker processes, timing and printing.

The driver (bench/run.py) uses :class:`Bench`; each measurement runs in a worker,
an OS process started as ``python3 bench/benchlib.py --worker SPEC MODULE COMMAND
ARGS...``: it loads the Odoo registry, prints ``ready``, waits for ``go`` on its
standard input (so that the clock never counts the registry's loading and two
workers start together), runs ``MODULE.COMMANDS[COMMAND]`` on a real committing
cursor and prints one JSON line of results.

Benchmark code, not addon code: it commits, and it reads and writes with SQL where
only the benchmark's bookkeeping is concerned.
"""
# pylint: disable=invalid-commit,print-used

import importlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PAGE = os.sysconf("SC_PAGE_SIZE")

# --- Driver side ------------------------------------------------------------------


def find_odoo():
    """Odoo 19 and the Python that runs it, found by tools/odoo_env.py."""
    sys.path.insert(0, os.path.join(ROOT, "tools"))
    import odoo_env

    try:
        return odoo_env.find()
    except odoo_env.OdooNotFound as exc:
        sys.exit(f"Odoo 19 {exc}")


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


def load():
    """The machine's load average over the last minute, to print beside the numbers."""
    return os.getloadavg()[0]


class Bench:
    """A throwaway database with crm_billing (and ``modules``), and the workers that
    measure on it."""

    def __init__(self, args, modules=("crm_billing",), extra_addons=()):
        self.args = args
        odoo = find_odoo()
        self.rc, self.odoo_bin, self.python = odoo.rc, odoo.bin, odoo.python
        self.tmp = tempfile.mkdtemp(prefix="crm_billing_bench.")
        addons = os.path.join(self.tmp, "addons")
        os.makedirs(addons)
        os.symlink(ROOT, os.path.join(addons, "crm_billing"))
        for path in extra_addons:
            os.symlink(path, os.path.join(addons, os.path.basename(path)))
        self.addons_path = f"{addons},{odoo.addons_path}"
        self.modules = list(modules)
        self.db = getattr(args, "db", None) or f"crm_billing_bench_{os.getpid()}"
        self.server = None
        # wall time spent starting worker processes (their registry loading), and how many
        self.loading = 0.0
        self.processes = 0

    def add_addon(self, path, module):
        """Put the addon at ``path`` on the addons path and install it too."""
        os.symlink(path, os.path.join(self.tmp, "addons", os.path.basename(path)))
        self.modules.append(module)

    def odoo_args(self):
        return [
            "-c",
            self.rc,
            "--addons-path",
            self.addons_path,
            "-d",
            self.db,
            f"--data-dir={self.tmp}/data",
        ]

    def worker_cmd(self, module, *words):
        spec = json.dumps({"odoo_bin": self.odoo_bin, "odoo_args": self.odoo_args()})
        return [self.python, os.path.abspath(__file__), "--worker", spec, module, *map(str, words)]

    def start(self, module, *words):
        return subprocess.Popen(
            self.worker_cmd(module, *words),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    @staticmethod
    def wait_ready(proc):
        line = proc.stdout.readline()
        if line.strip() != "ready":
            proc.wait()
            sys.exit(f"worker failed to start: {line}")

    @staticmethod
    def finish(proc):
        out, _err = proc.communicate()
        if proc.returncode:
            sys.exit(f"worker failed (exit {proc.returncode})")
        return json.loads(out.strip().splitlines()[-1])

    def call(self, module, *words):
        """Run one worker to the end, timed from its 'go' (after its registry loaded)."""
        started = time.monotonic()
        proc = self.start(module, *words)
        self.wait_ready(proc)
        self.loading += time.monotonic() - started
        self.processes += 1
        proc.stdin.write("go\n")
        proc.stdin.flush()
        return self.finish(proc)

    def parallel(self, n, module, *words):
        started = time.monotonic()
        procs = [self.start(module, *words) for _i in range(n)]
        for proc in procs:
            self.wait_ready(proc)
        self.loading += time.monotonic() - started
        self.processes += n
        for proc in procs:
            proc.stdin.write("go\n")
            proc.stdin.flush()
        return [self.finish(proc) for proc in procs]

    # --- database and server ---

    def create_db(self):
        odoo = [self.python, self.odoo_bin, *self.odoo_args(), "--no-http", "--stop-after-init"]
        modules = ",".join(self.modules)
        if self.args.template:
            self.call_sql(f'CREATE DATABASE "{self.db}" TEMPLATE "{self.args.template}"')
            cmd = [*odoo, "-u", "crm_billing", "-i", modules]
        else:
            cmd = [*odoo, "-i", modules, "--without-demo=True"]
        log = os.path.join(self.tmp, "install.log")
        with open(log, "w") as out:
            if subprocess.run(
                [*cmd, "--log-level=warn", "--max-cron-threads=0"],
                stdout=out,
                stderr=out,
                check=False,
            ).returncode:
                sys.exit(f"installing {modules} failed, see {log}")

    def drop_db(self):
        self.stop_server()
        self.call_sql(f'DROP DATABASE IF EXISTS "{self.db}" WITH (FORCE)')
        shutil.rmtree(self.tmp, ignore_errors=True)

    def call_sql(self, sql, db="postgres"):
        cmd = self.worker_cmd("-", "sql", db, sql)
        subprocess.run(cmd, check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)

    def vacuum_db(self):
        """The whole database vacuumed, analysed and checkpointed (see ``vacuum``)."""
        cmd = self.worker_cmd("-", "vacuum", self.db)
        subprocess.run(cmd, check=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)

    def start_server(self):
        """An Odoo HTTP server on the database (one process, no cron), for RPC."""
        import urllib.request

        port = 18990 + os.getpid() % 500
        log = open(os.path.join(self.tmp, "server.log"), "w")
        self.server = subprocess.Popen(
            [
                self.python,
                self.odoo_bin,
                *self.odoo_args(),
                "--log-level=warn",
                f"--http-port={port}",
                "--workers=0",
                "--max-cron-threads=0",
                f"--db-filter=^{self.db}$",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        for _i in range(300):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/web/health", timeout=5)
                return port
            except OSError:
                time.sleep(1)
        sys.exit("the Odoo server did not start")

    def stop_server(self):
        if self.server:
            self.server.terminate()
            self.server.wait()
            self.server = None


def ratio(a, b):
    return a / b if b else 0.0


def section(title):
    print(f"\n== {title} (load average {load():.1f})", flush=True)


# --- Worker side ------------------------------------------------------------------


def rss_mb():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * PAGE / 2**20


class Stats:
    """What the instrumented ``ir.cron._commit_progress`` saw, batch by batch."""

    batches = []  # (monotonic time, RSS MB, processed)
    run_batches = []  # the billing run's batches: (invoices, RSS MB)
    pdf_calls = 0
    pdf_documents = 0
    # seconds from a transaction's first lock of an invoice sequence to its end: while
    # one worker holds it, another worker posting on the same journal waits
    sequence_held = 0.0
    sequence_locked_at = None


def instrument():
    from odoo.addons.base.models.ir_actions_report import IrActionsReport
    from odoo.addons.base.models.ir_cron import IrCron

    original = IrCron._commit_progress

    def _commit_progress(self, processed=0, **kwargs):
        result = original(self, processed, **kwargs)
        Stats.batches.append((time.monotonic(), rss_mb(), processed))
        return result

    IrCron._commit_progress = _commit_progress

    from odoo.sql_db import Cursor

    from odoo.addons.account.models.sequence_mixin import SequenceMixin

    locked_increment = SequenceMixin._locked_increment

    def _locked_increment(self, format_string, format_values):
        if Stats.sequence_locked_at is None:
            Stats.sequence_locked_at = time.monotonic()
        return locked_increment(self, format_string, format_values)

    SequenceMixin._locked_increment = _locked_increment

    def ended(method):
        def end(self, *args, **kwargs):
            try:
                return method(self, *args, **kwargs)
            finally:
                if Stats.sequence_locked_at is not None:
                    Stats.sequence_held += time.monotonic() - Stats.sequence_locked_at
                    Stats.sequence_locked_at = None

        return end

    Cursor.commit = ended(Cursor.commit)
    Cursor.rollback = ended(Cursor.rollback)

    render = IrActionsReport._run_wkhtmltopdf

    def _run_wkhtmltopdf(self, bodies, *args, **kwargs):
        Stats.pdf_calls += 1
        Stats.pdf_documents += len(bodies)
        return render(self, bodies, *args, **kwargs)

    IrActionsReport._run_wkhtmltopdf = _run_wkhtmltopdf


def batch_rss():
    return [round(mb, 1) for _t, mb, processed in Stats.batches if processed] or [rss_mb()]


def run_cron(env, xmlid):
    """Run a scheduled action's code the way ir.cron's job runner does: as the cron's
    user, with a progress record in the context, on this committing cursor."""
    cron = env.ref(xmlid)
    cron = cron.with_user(cron.user_id).with_context(lastcall=cron.lastcall, cron_id=cron.id)
    cron, progress = cron._add_progress()
    env.cr.commit()
    cron._callback(cron.cron_name, cron.ir_actions_server_id.id)
    return progress


def on_fresh_cursor(env, command, *args):
    """``command(env, *args)`` on a cursor and transaction of its own, committed, as
    Odoo gives each cron job and each request: what an earlier phase left in this
    process's transaction does not weigh on it. (One transaction keeps every
    environment that is still referenced, and Odoo looks an environment up among all
    of them whenever a context changes: after the Register Payment wizard's one
    context per invoice, the collection run spent a tenth of its time there.)"""
    from odoo import api

    env.cr.commit()
    with env.registry.cursor() as cr:
        result = command(api.Environment(cr, env.uid, dict(env.context)), *args)
        cr.commit()
    env.invalidate_all()
    return result


#: the tables that invoicing, posting and their chatter write to
SETTLED_TABLES = (
    "account_move",
    "account_move_line",
    "account_move_line_account_tax_rel",
    "crm_billing_period",
    "crm_billing_schedule",
    "mail_followers",
    "mail_message",
    "res_partner",
)


def settle(env):
    """Commit, then vacuum and analyse the tables that invoicing writes to, as
    autovacuum leaves them between two runs of a cron: a timed phase does not start
    on the dead rows and stale statistics of the one before it; then a checkpoint
    (see ``checkpoint``)."""
    env.cr.commit()
    vacuum(env.cr.dbname, SETTLED_TABLES)


def vacuum(dbname, tables=()):
    """``VACUUM ANALYZE`` of ``tables`` (of the whole database when none), then a
    checkpoint."""
    import odoo

    with odoo.sql_db.db_connect(dbname).cursor() as cr:
        cr._cnx.autocommit = True
        cr.execute(f"VACUUM ANALYZE {', '.join(tables)}")
        checkpoint(cr)


def checkpoint(cr):
    """Write what the phases before left in PostgreSQL's buffers now, with a
    ``CHECKPOINT`` (superuser or ``pg_checkpoint``; skipped without the right):
    else the checkpointer writes it out in the background during the next timed
    phase, which weighs on whichever phase comes first."""
    import psycopg2

    try:
        cr.execute("CHECKPOINT")
    except psycopg2.errors.InsufficientPrivilege:
        pass


def today(env):
    from odoo import fields

    return fields.Date.context_today(env["crm.billing.schedule"])


def halves(records):
    """The first and second half of ``records`` (a list or a recordset): a run and
    its floor are measured interleaved in halves."""
    half = len(records) // 2
    return records[:half], records[half:]


def sum_parts(parts, count="invoices", **extra):
    """The halves' results added up: their ``count`` (invoices, payments) and
    seconds, and the rate of the whole."""
    done = sum(part[count] for part in parts)
    seconds = sum(part["seconds"] for part in parts)
    return {**extra, count: done, "seconds": seconds, "rate": done / seconds}


def tag_schedules(env, tag):
    env.cr.execute(
        "SELECT s.id FROM crm_billing_schedule s JOIN res_partner p ON p.id = s.partner_id"
        " WHERE p.ref = %s ORDER BY s.id",
        [tag],
    )
    return env["crm.billing.schedule"].browse([row[0] for row in env.cr.fetchall()])


QUIET = {"tracking_disable": True, "mail_create_nolog": True, "mail_notrack": True}


def profiled(name):
    """A cProfile profiler when $BENCH_PROFILE names a directory, else None; its
    output goes to ``$BENCH_PROFILE/name.prof`` (read it with ``python3 -m pstats``)."""
    directory = os.environ.get("BENCH_PROFILE")
    if not directory:
        return None
    import cProfile

    profiler = cProfile.Profile()
    profiler.enable()
    profiler.bench_path = os.path.join(directory, f"{name}.prof")
    return profiler


def profile_done(profiler):
    if profiler:
        profiler.disable()
        profiler.dump_stats(profiler.bench_path)


def worker_main(spec, module, words):
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
    if command == "vacuum":
        vacuum(args[0])
        return
    sys.path.insert(0, HERE)
    commands = importlib.import_module(module).COMMANDS
    instrument()
    from odoo.modules.registry import Registry

    db_name = config["db_name"][0] if isinstance(config["db_name"], list) else config["db_name"]
    registry = Registry(db_name)
    print("ready", flush=True)
    if sys.stdin.readline().strip() != "go":
        sys.exit(1)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        result = commands[command](env, *args)
        cr.commit()
    print(json.dumps(result, default=str), flush=True)


if __name__ == "__main__":
    if len(sys.argv) < 4 or sys.argv[1] != "--worker":
        sys.exit("run bench/run.py: this module only runs its workers")
    worker_spec = json.loads(sys.argv[2])
    sys.path.insert(0, os.path.dirname(worker_spec["odoo_bin"]))
    # through the module, not this __main__: the commands import benchlib, and
    # instrument() must count into the Stats they read
    sys.path.insert(0, HERE)
    import benchlib

    benchlib.worker_main(worker_spec, sys.argv[3], sys.argv[4:])
