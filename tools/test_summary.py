# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Read an Odoo test log and print shell assignments TESTS_PASSED / TESTS_FAILED.

A failed or errored test, a skipped test (a browser test skipped for want of
Chromium is a lost test), an error logged outside any test (the install itself
must log none) and a run that ended without a test report all count as
failures. Lines starting with "# " are the human summary.

With ``--upgrade LOG``: exits 1, printing them, when an upgrade log has a
warning of crm_billing's own loggers or an error of any logger.
"""

import re
import sys

LOG_LINE = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ \d+ (?P<level>[A-Z]+) (?P<db>\S+) (?P<logger>\S+): (?P<msg>.*)"
)
REPORT = re.compile(r"(\d+) failed, (\d+) error\(s\) of (\d+) tests when loading database")


def main(path, returncode):
    failures = errors = run = skipped = stray_errors = 0
    reported = False
    skipped_lines = []
    stray_lines = []
    with open(path, encoding="utf-8", errors="replace") as log:
        for line in log:
            match = LOG_LINE.match(line)
            if not match:
                continue
            msg, logger, level = match["msg"], match["logger"], match["level"]
            report = REPORT.search(msg)
            if report and logger == "odoo.tests.result":
                failures, errors, run = map(int, report.groups())
                reported = True
            elif msg.startswith("skipped "):
                skipped += 1
                skipped_lines.append(msg)
            elif level in ("ERROR", "CRITICAL") and ".tests" not in logger:
                stray_errors += 1
                stray_lines.append(f"{logger}: {msg}")
    failed = failures + errors + skipped
    passed = max(run - failures - errors - skipped, 0)
    notes = [
        f"odoo test runner: {run} tests, {failures} failed, {errors} errors, {skipped} skipped"
    ]
    notes += [f"  skipped counts as failed: {s}" for s in skipped_lines]
    if stray_errors:
        failed += 1
        notes.append(f"  {stray_errors} error line(s) logged outside the tests:")
        notes += [f"    {s}" for s in stray_lines[:10]]
    if not reported:
        failed += 1
        notes.append("  no test report: Odoo stopped before running the tests")
    elif run == 0:
        failed += 1
        notes.append("  no test ran")
    if int(returncode) != 0 and failed == 0:
        failed += 1
        notes.append(f"  odoo exited with {returncode}")
    for note in notes:
        print(f"# {note}")
    print(f"TESTS_PASSED={passed}")
    print(f"TESTS_FAILED={failed}")


def check_upgrade(path):
    """Exit 1, printing them, on a warning of crm_billing's own loggers
    (odoo.addons.crm_billing...) or an error of any logger in an upgrade log."""
    problems = []
    with open(path, encoding="utf-8", errors="replace") as log:
        for line in log:
            match = LOG_LINE.match(line)
            if not match or match["level"] not in ("WARNING", "ERROR", "CRITICAL"):
                continue
            logger = match["logger"]
            own = logger == "odoo.addons.crm_billing" or logger.startswith(
                "odoo.addons.crm_billing."
            )
            if own or match["level"] != "WARNING":
                problems.append(line.rstrip())
    for line in problems:
        print(line)
    return 1 if problems else 0


if __name__ == "__main__":
    if sys.argv[1] == "--upgrade":
        sys.exit(check_upgrade(sys.argv[2]))
    main(sys.argv[1], sys.argv[2])
