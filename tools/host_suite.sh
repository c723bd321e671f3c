#!/usr/bin/env bash
# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
#
# Is crm_billing a good guest? Runs Odoo's own test suites of the apps it extends
# (the "full" lines of tests/host_suites.txt: sale, sale_management, sale_crm,
# account's invoice/payment/portal classes, account_payment, portal, payment) on a
# database without crm_billing and on the same database with crm_billing
# installed, in a throwaway PostgreSQL, and prints the tests that fail ONLY with
# crm_billing. Ends with "N passed, N failed" on that difference; exits non-zero
# when a test fails only with crm_billing.
#
#   1. installs sale_management, sale_crm, account_payment, portal and payment
#      (with demo data, like tools/test.sh) into a database "host_without";
#   2. copies it to "host_with" and installs crm_billing there;
#   3. runs the suites on both databases, already installed (so at_install
#      tests run with crm_billing's tables, data and views in the database),
#      both at once unless --jobs 1;
#   4. compares the two logs (tools/host_suite_compare.py).
#
# Options: --tags SPEC   other Odoo test-tags instead of tests/host_suites.txt
#          --jobs 1|2    run the two databases one after the other, or at once (2)
#          --keep        keep the cluster, logs and databases afterwards
# Takes about 30 minutes with --jobs 2 on two cores.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tags="$(awk '$1 == "full" {print $2}' "$here/tests/host_suites.txt" | paste -sd, -)"
jobs=2
KEEP=0
while [ $# -gt 0 ]; do
    case "$1" in
        --tags) tags="$2"; shift 2 ;;
        --jobs) jobs="$2"; shift 2 ;;
        --keep) KEEP=1; shift ;;
        *) echo "usage: $0 [--tags SPEC] [--jobs 1|2] [--keep]" >&2; exit 2 ;;
    esac
done
die() { echo "ERROR: $*" >&2; echo "0 passed, 1 failed"; exit 2; }
# shellcheck source=tools/odoo_env.sh
. "$here/tools/odoo_env.sh"

find_odoo
start_throwaway_pg crm_billing_host_suite
host_modules="sale_management,sale_crm,account_payment,portal,payment"
started=$SECONDS

echo "Installing $host_modules into host_without ($(date -u +%H:%M:%S) UTC)"
odoo_opts host_without "$(free_port)"
"$ODOO_PYTHON" "$ODOO_BIN" "${ODOO_OPTS[@]}" -i "$host_modules" --with-demo --stop-after-init \
    --log-level=warn >"$WORK/install_without.log" 2>&1 \
    || { tail -n 30 "$WORK/install_without.log"; KEEP=1; die "installing $host_modules failed"; }

echo "Copying it to host_with and installing crm_billing there"
"$PG_BIN/createdb" -h "$PG_HOST" -p "$PG_PORT" -U odoo -T host_without host_with
mkdir -p "$WORK/data/filestore"
[ ! -d "$WORK/data/filestore/host_without" ] \
    || cp -a "$WORK/data/filestore/host_without" "$WORK/data/filestore/host_with"
odoo_opts host_with "$(free_port)"
"$ODOO_PYTHON" "$ODOO_BIN" "${ODOO_OPTS[@]}" -i crm_billing --with-demo --stop-after-init \
    --log-level=warn >"$WORK/install_with.log" 2>&1 \
    || { tail -n 30 "$WORK/install_with.log"; KEEP=1; die "installing crm_billing failed"; }

run_suites() {  # run_suites DB
    local opts
    odoo_opts "$1" "$(free_port)"
    opts=("${ODOO_OPTS[@]}")
    "$ODOO_PYTHON" "$ODOO_BIN" "${opts[@]}" --test-enable --test-tags "$tags" --log-level=test \
        --stop-after-init >"$WORK/$1.log" 2>&1 || true
    echo "  $1 done after $(( (SECONDS - started) / 60 )) min"
}
echo "Running Odoo's own tests on both databases ($(date -u +%H:%M:%S) UTC): $tags"
if [ "$jobs" = 1 ]; then
    run_suites host_without
    run_suites host_with
else
    run_suites host_without &
    without_pid=$!
    run_suites host_with
    wait "$without_pid"
fi

echo "Compared after $(( (SECONDS - started) / 60 )) min (logs: $WORK/host_without.log, $WORK/host_with.log)"
set +e
python3 "$here/tools/host_suite_compare.py" "$WORK/host_without.log" "$WORK/host_with.log"
rc=$?
set -e
[ "$rc" = 0 ] || KEEP=1
exit "$rc"
