#!/usr/bin/env bash
# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
#
# Run every crm_billing test against a real Odoo 19 and a throwaway PostgreSQL:
#   1. install the addon into a fresh database and run its tests with Odoo's
#      runner (unit, integration, report rendering, browser tours), and the
#      fast part of Odoo's own suites of the apps it extends ("ci" lines of
#      tests/host_suites.txt; tools/host_suite.sh runs and compares the rest);
#   2. upgrade it (-u crm_billing) and uninstall it, checking the logs stay clean.
# Ends with a line "N passed, N failed"; exits non-zero when a test failed,
# errored or was skipped, or when no test ran.
#
# Odoo 19 and the Python that runs it are found by tools/odoo_env.py: Odoo's
# standard configuration file ($ODOO_RC, else ~/.odoorc), whose addons_path lists
# Odoo's "addons" and "odoo/addons" folders, and $ODOO_PYTHON or the interpreter
# of an `odoo` launcher / virtualenv / odoo-bin that imports Odoo.
#
# Options: --tags SPEC   only run tests matching an Odoo test-tags spec
#          --keep        keep the database cluster and log folder afterwards
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# crm_billing's tests, and the fast part of Odoo's own suites of the apps it extends
# ("ci" lines of tests/host_suites.txt: their browser tours, sale-to-invoice and
# payment-register classes), run with crm_billing installed
tags="/crm_billing,$(awk '$1 == "ci" {print $2}' "$here/tests/host_suites.txt" | paste -sd, -)"
full=1
keep=0
while [ $# -gt 0 ]; do
    case "$1" in
        --tags) tags="$2"; full=0; shift 2 ;;
        --keep) keep=1; shift ;;
        *) echo "usage: $0 [--tags SPEC] [--keep]" >&2; exit 2 ;;
    esac
done

die() { echo "ERROR: $*" >&2; echo "0 passed, 1 failed"; exit 2; }
# shellcheck source=tools/odoo_env.sh
. "$here/tools/odoo_env.sh"

# --- Odoo 19, through its standard configuration, and the Python that runs it ------
find_odoo

# --- what the tests need on the machine -------------------------------------------
missing_debs=()
command -v wkhtmltopdf >/dev/null || missing_debs+=(wkhtmltopdf)
command -v chromium >/dev/null || command -v chromium-browser >/dev/null \
    || command -v google-chrome >/dev/null || missing_debs+=(chromium)
command -v pdftotext >/dev/null || missing_debs+=(poppler-utils)
if [ ${#missing_debs[@]} -gt 0 ]; then
    echo "Installing ${missing_debs[*]}"
    if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi
    $sudo apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing_debs[@]}" >/dev/null
fi
"$ODOO_PYTHON" - <<'EOF' || "$ODOO_PYTHON" -m pip install -q -r "$here/tests/requirements.txt"
import importlib.util, sys
mods = ["websocket", "freezegun", "hypothesis", "num2words", "qrcode"]
sys.exit(any(importlib.util.find_spec(m) is None for m in mods))
EOF

# --- a throwaway PostgreSQL, the addon on the addons path ----------------------------
KEEP=$keep
start_throwaway_pg crm_billing_test
work="$WORK"
db="crm_billing_test"
odoo_opts "$db" "$(free_port)"
base_opts=("${ODOO_OPTS[@]}")
odoo=("$ODOO_PYTHON" "$ODOO_BIN" "${base_opts[@]}" --stop-after-init)

passed=0
failed=0
check() {  # check NAME CONDITION-EXIT-CODE
    if [ "$2" = 0 ]; then passed=$((passed + 1)); echo "PASS $1"; else failed=$((failed + 1)); echo "FAIL $1"; fi
}

test_modules="$(grep -v '^#' "$here/tests/test_modules.txt" | grep -v '^$' | paste -sd, -)"
echo "Installing $test_modules into a fresh database and running the tests $tags"
set +e
"${odoo[@]}" -i "$test_modules" --with-demo --test-enable --test-tags "$tags" --log-level=test \
    >"$work/test.log" 2>&1
odoo_rc=$?
set -e
python3 "$here/tools/test_summary.py" "$work/test.log" "$odoo_rc" >"$work/summary.env"
cat "$work/summary.env" | sed -n 's/^# //p'
# shellcheck disable=SC1091
. "$work/summary.env"
passed=$((passed + TESTS_PASSED))
failed=$((failed + TESTS_FAILED))

if [ "$full" = 1 ]; then
    set +e
    "${odoo[@]}" -u crm_billing --log-level=info >"$work/upgrade.log" 2>&1
    up_rc=$?
    set -e
    # a problem of crm_billing's own loggers, or an error of any
    python3 "$here/tools/test_summary.py" --upgrade "$work/upgrade.log" || up_rc=1
    check "upgrade (-u crm_billing) with a clean log" "$up_rc"

    # uninstall on a database of its own, without demo data (Odoo cannot delete demo
    # records that invoices still reference, and says so in its log), after use
    un_opts=("${base_opts[@]}" -d "${db}_uninstall")
    set +e
    "$ODOO_PYTHON" "$ODOO_BIN" "${un_opts[@]}" --stop-after-init -i crm_billing --without-demo \
        --log-level=warn >"$work/uninstall.log" 2>&1 \
    && "$ODOO_PYTHON" "$ODOO_BIN" shell "${un_opts[@]}" --no-http <"$here/tools/uninstall_check.py" \
        >>"$work/uninstall.log" 2>&1
    un_rc=$?
    set -e
    grep -q "UNINSTALL OK" "$work/uninstall.log" || un_rc=1
    grep -E " (ERROR|CRITICAL) " "$work/uninstall.log" && un_rc=1
    check "uninstall, after use, leaves no crm_billing table, field or view behind" "$un_rc"
    [ "$un_rc" = 0 ] || tail -n 30 "$work/uninstall.log"
fi

if [ "$failed" != 0 ] || [ "$passed" = 0 ]; then
    echo "Log: $work/test.log (kept)"
    KEEP=1
fi
echo "$passed passed, $failed failed"
[ "$failed" = 0 ] && [ "$passed" -gt 0 ]
