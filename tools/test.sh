#!/usr/bin/env bash
# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
#
# Run every crm_billing test against a real Odoo 19 and a throwaway PostgreSQL:
#   1. install the addon into a fresh database and run its tests with Odoo's
#      runner (unit, integration, report rendering, browser tours);
#   2. upgrade it (-u crm_billing) and uninstall it, checking the logs stay clean.
# Ends with a line "N passed, N failed"; exits non-zero when a test failed,
# errored or was skipped, or when no test ran.
#
# Odoo 19 is found through Odoo's standard configuration file: $ODOO_RC, else
# ~/.odoorc (or ~/.openerp_serverrc); its addons_path must list Odoo's
# "addons" and "odoo/addons" folders.
#
# Options: --tags SPEC   only run tests matching an Odoo test-tags spec
#          --keep        keep the database cluster and log folder afterwards
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tags="/crm_billing"
keep=0
while [ $# -gt 0 ]; do
    case "$1" in
        --tags) tags="$2"; shift 2 ;;
        --keep) keep=1; shift ;;
        *) echo "usage: $0 [--tags SPEC] [--keep]" >&2; exit 2 ;;
    esac
done

die() { echo "ERROR: $*" >&2; echo "0 passed, 1 failed"; exit 2; }

# --- Odoo 19, through its standard configuration --------------------------------
rc="${ODOO_RC:-}"
if [ -z "$rc" ]; then
    for candidate in "$HOME/.odoorc" "$HOME/.openerp_serverrc"; do
        [ -f "$candidate" ] && rc="$candidate" && break
    done
fi
[ -n "$rc" ] && [ -f "$rc" ] || die "Odoo 19 not found: no Odoo configuration file.
Install Odoo 19.0 Community and point \$ODOO_RC (or ~/.odoorc) at a configuration
whose addons_path lists its 'addons' and 'odoo/addons' folders (see README.rst)."

eval "$(python3 "$here/tools/find_odoo.py" "$rc")" || die "Odoo 19 not found from $rc (see the message above)."
echo "Odoo $ODOO_VERSION at $ODOO_BIN (configuration $rc)"

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
python3 - <<'EOF' || python3 -m pip install -q -r "$here/tests/requirements.txt"
import importlib.util, sys
mods = ["websocket", "freezegun", "hypothesis", "num2words", "qrcode"]
sys.exit(any(importlib.util.find_spec(m) is None for m in mods))
EOF

# --- a throwaway PostgreSQL --------------------------------------------------------
pg_bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
[ -x "$pg_bin/initdb" ] || pg_bin="$(dirname "$(command -v initdb || echo /nonexistent)")"
[ -x "$pg_bin/initdb" ] || die "PostgreSQL server binaries (initdb, pg_ctl) not found."
work="$(mktemp -d /tmp/crm_billing_test.XXXXXX)"
chmod 755 "$work"
as_pg=()
if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || die "running as root needs a 'postgres' system user for PostgreSQL"
    as_pg=(runuser -u postgres --)
fi
mkdir -p "$work/pg"
[ ${#as_pg[@]} -eq 0 ] || chown postgres "$work/pg"
pg_port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
http_port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
cleanup() {
    "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$work/pg/data" -m immediate stop >/dev/null 2>&1 || true
    if [ "$keep" = 1 ]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
"${as_pg[@]}" "$pg_bin/initdb" -D "$work/pg/data" -U odoo --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
"${as_pg[@]}" "$pg_bin/pg_ctl" -D "$work/pg/data" -l "$work/pg/server.log" -w start \
    -o "-k $work/pg -p $pg_port -c listen_addresses='' -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" >/dev/null

# --- the addon, under its own name, on the addons path ------------------------------
mkdir -p "$work/addons"
ln -s "$here" "$work/addons/crm_billing"
db="crm_billing_test"
base_opts=(-c "$rc" --addons-path="$work/addons,$ODOO_ADDONS_PATH"
      --db_host="$work/pg" --db_port="$pg_port" --db_user=odoo --db_password=odoo
      --data-dir="$work/data" --http-interface=127.0.0.1 --http-port="$http_port"
      --max-cron-threads=0)
opts=("${base_opts[@]}" -d "$db")
odoo=(python3 "$ODOO_BIN" "${opts[@]}" --stop-after-init)

passed=0
failed=0
check() {  # check NAME CONDITION-EXIT-CODE
    if [ "$2" = 0 ]; then passed=$((passed + 1)); echo "PASS $1"; else failed=$((failed + 1)); echo "FAIL $1"; fi
}

test_modules="$(grep -v '^#' "$here/tests/test_modules.txt" | grep -v '^$' | paste -sd, -)"
echo "Installing $test_modules into a fresh database and running crm_billing's tests ($tags)"
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

if [ "$tags" = "/crm_billing" ]; then
    set +e
    "${odoo[@]}" -u crm_billing --log-level=info >"$work/upgrade.log" 2>&1
    up_rc=$?
    set -e
    grep -E " (ERROR|WARNING|CRITICAL) .*crm_billing" "$work/upgrade.log" && up_rc=1
    check "upgrade (-u crm_billing) with a clean log" "$up_rc"

    # uninstall on a database of its own, without demo data (Odoo cannot delete demo
    # records that invoices still reference, and says so in its log), after use
    un_opts=("${base_opts[@]}" -d "${db}_uninstall")
    set +e
    python3 "$ODOO_BIN" "${un_opts[@]}" --stop-after-init -i crm_billing --without-demo \
        --log-level=warn >"$work/uninstall.log" 2>&1 \
    && python3 "$ODOO_BIN" shell "${un_opts[@]}" --no-http <"$here/tools/uninstall_check.py" \
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
    keep=1
fi
echo "$passed passed, $failed failed"
[ "$failed" = 0 ] && [ "$passed" -gt 0 ]
