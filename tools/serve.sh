#!/usr/bin/env bash
# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
#
# The main job: open a ready database with crm_billing and its demo data and serve
# it at http://localhost:8069 (log in as admin / admin).
#
#   tools/serve.sh [DATABASE]          (default database: crm_billing)
#
# Odoo 19 and the Python that runs it are found by tools/odoo_env.py (Odoo's
# configuration file $ODOO_RC or ~/.odoorc; $ODOO_PYTHON or the interpreter of an
# `odoo` launcher, virtualenv or odoo-bin that imports Odoo). The PostgreSQL of
# that configuration is used when it answers; otherwise a PostgreSQL of its own is
# started, with its data in ~/.local/share/crm_billing/pg (as root: in the
# postgres user's home, /var/lib/postgresql/crm_billing). An existing database is
# upgraded (-u crm_billing), a new one installed with demo data.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
db="${1:-crm_billing}"
port="${HTTP_PORT:-8069}"
die() { echo "ERROR: $*" >&2; exit 2; }
# shellcheck source=tools/odoo_env.sh
. "$here/tools/odoo_env.sh"

find_odoo
"$ODOO_PYTHON" -c "import num2words, qrcode" 2>/dev/null \
    || "$ODOO_PYTHON" -m pip install -q num2words qrcode

addons="$(mktemp -d /tmp/crm_billing_addons.XXXXXX)"
ln -s "$here" "$addons/crm_billing"
opts=(-c "$ODOO_RC_FILE" --addons-path="$addons,$ODOO_ADDONS_PATH" -d "$db")

# --- PostgreSQL: the configured one, or one of our own --------------------------
if ! "$ODOO_PYTHON" "$here/tools/pg_answers.py" "$ODOO_RC_FILE"; then
    pg_bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
    [ -x "$pg_bin/initdb" ] || pg_bin="$(dirname "$(command -v initdb || echo /nonexistent)")"
    [ -x "$pg_bin/initdb" ] || die "no PostgreSQL answers and its server binaries (initdb, pg_ctl) are not installed."
    as_pg=()
    data="$HOME/.local/share/crm_billing/pg"
    if [ "$(id -u)" = 0 ]; then
        # PostgreSQL refuses to run as root: its cluster lives in the postgres
        # user's own home, which it can reach without opening up root's
        id postgres >/dev/null 2>&1 || die "running as root needs a 'postgres' system user for PostgreSQL"
        as_pg=(runuser -u postgres --)
        data="$(getent passwd postgres | cut -d: -f6)/crm_billing"
    fi
    if [ ! -d "$data/data" ]; then
        "${as_pg[@]}" mkdir -p "$data"
        "${as_pg[@]}" "$pg_bin/initdb" -D "$data/data" -U odoo --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
    fi
    "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$data/data" -l "$data/server.log" -w status >/dev/null 2>&1 \
        || "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$data/data" -l "$data/server.log" -w start \
            -o "-k $data -p 54329 -c listen_addresses=''" >/dev/null
    echo "Started a PostgreSQL of its own in $data"
    opts+=(--db_host="$data" --db_port=54329 --db_user=odoo --db_password=odoo)
fi

if "$ODOO_PYTHON" "$here/tools/pg_answers.py" "$ODOO_RC_FILE" --database "$db" "${opts[@]}"; then
    echo "Upgrading crm_billing in database $db"
    "$ODOO_PYTHON" "$ODOO_BIN" "${opts[@]}" -u crm_billing --stop-after-init
else
    echo "Creating database $db with crm_billing and its demo data"
    "$ODOO_PYTHON" "$ODOO_BIN" "${opts[@]}" -i crm_billing --with-demo --stop-after-init
fi
echo "Serving $db at http://localhost:$port (admin / admin); Ctrl-C stops."
exec "$ODOO_PYTHON" "$ODOO_BIN" "${opts[@]}" --http-port="$port" --db-filter="^$db\$"
