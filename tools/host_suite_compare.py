# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Compare two Odoo test logs of the same suites: one run on a database without
crm_billing, one with it. Prints the tests that fail only with crm_billing and
ends with "N passed, N failed" on that difference:

- failed: tests that failed (Odoo's runner reports FAIL or ERROR, or skipped
  them) with crm_billing but not without it, and tests that ran without
  crm_billing but not with it;
- passed: every other test that ran in both.

Tests failing in both runs are listed apart: they are not crm_billing's.

    python3 tools/host_suite_compare.py [--so-far] WITHOUT.log WITH.log

``--so-far`` reads two runs still in progress: only the tests both have started
are compared.
"""

import re
import sys

LOG_LINE = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ \d+ (?P<level>[A-Z]+) (?P<db>\S+) (?P<logger>\S+): (?P<msg>.*)"
)
OUTCOME = re.compile(r"^(?:FAIL|ERROR): (?P<desc>.+)$")
SUBTEST = re.compile(r"^Subtest (?P<test>\S+)")
FIXTURE = re.compile(
    r"^(?P<what>setUpClass|tearDownClass|setUpModule|tearDownModule) \((?P<where>[\w.]+)\)"
)


def test_key(logger, desc):
    sub = SUBTEST.match(desc)
    if sub:
        desc = sub["test"]
    fixture = FIXTURE.match(desc)
    if fixture:
        return f"{fixture['where']}.{fixture['what']}"
    return f"{logger}.{desc.split()[0]}"


def read_log(path):
    """(tests run, {test: why it failed}, whether a test report was logged)."""
    run, failed = [], {}
    reported = False
    with open(path, encoding="utf-8", errors="replace") as log:
        for line in log:
            match = LOG_LINE.match(line)
            if not match:
                continue
            level, logger, msg = match["level"], match["logger"], match["msg"].rstrip()
            if logger == "odoo.tests.result" and "tests when loading database" in msg:
                reported = True
            if ".tests." in logger and msg.startswith("Starting ") and msg.endswith(" ..."):
                run.append(test_key(logger, msg[len("Starting ") : -len(" ...")]))
                continue
            if msg.startswith("skipped ") and ".tests." in logger:
                key = test_key(logger, msg[len("skipped ") :].split(" : ")[0])
                failed.setdefault(key, "skipped: " + msg.split(" : ", 1)[-1][:120])
                continue
            if level not in ("ERROR", "CRITICAL"):
                continue
            outcome = OUTCOME.match(msg)
            if outcome:
                key = test_key(logger, outcome["desc"])
                failed.setdefault(key, msg[:160])
    return run, failed, reported


def show(key):
    """odoo.addons.sale.tests.test_x.TestX.test_y -> sale: TestX.test_y"""
    parts = key.split(".")
    if len(parts) > 4 and parts[:2] == ["odoo", "addons"]:
        return f"{parts[2]}: {'.'.join(parts[5:]) or '.'.join(parts[4:])}"
    return key


def main(without_log, with_log, so_far=False):
    run_without, failed_without, rep_without = read_log(without_log)
    run_with, failed_with, rep_with = read_log(with_log)
    both = set(run_without) & set(run_with)
    if so_far:
        fixture = ("setUpClass", "tearDownClass", "setUpModule", "tearDownModule")
        failed_without = {
            k: v for k, v in failed_without.items() if k in both or k.endswith(fixture)
        }
        failed_with = {k: v for k, v in failed_with.items() if k in both or k.endswith(fixture)}
        rep_without = rep_with = True
    only_with = {k: v for k, v in failed_with.items() if k not in failed_without}
    missing = [] if so_far else sorted(set(run_without) - set(run_with))
    in_both = sorted(k for k in failed_with if k in failed_without)
    print(
        f"without crm_billing: {len(set(run_without))} tests, {len(failed_without)} failed; "
        f"with crm_billing: {len(set(run_with))} tests, {len(failed_with)} failed"
    )
    for name, reported in (("without", rep_without), ("with", rep_with)):
        if not reported:
            print(f"the run {name} crm_billing ended without a test report (see its log)")
    if in_both:
        print(f"failing with and without crm_billing (not crm_billing's): {len(in_both)}")
        for key in in_both:
            print(f"  {show(key)}  [{failed_with[key].splitlines()[0]}]")
    print(f"failing only with crm_billing: {len(only_with) + len(missing)}")
    for key in sorted(only_with):
        print(f"  FAIL {show(key)}  [{only_with[key].splitlines()[0]}]")
    for key in missing:
        print(f"  FAIL {show(key)}  [ran without crm_billing, not with it]")
    failed = len(only_with) + len(missing)
    if not (rep_without and rep_with):
        failed += 1
    passed = len([k for k in both if k not in only_with])
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if a != "--so-far"]
    sys.exit(main(args[0], args[1], so_far="--so-far" in sys.argv))
