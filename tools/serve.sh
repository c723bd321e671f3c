#!/usr/bin/env bash
# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
#
# The main job: open a ready database with crm_billing and its demo data and serve
# it at http://localhost:8069 (log in as admin / admin).
#
#   tools/serve.sh [DATABASE]          (default database: crm_billing)
#
# Odoo 19 is found through Odoo's configuration file ($ODOO_RC or ~/.odoorc). The
# PostgreSQL of that configuration is used when it answers; otherwise a
# PostgreSQL of its own is started, with its data in ~/.local/share/crm_billing/pg.
# An existing database is upgraded (-u crm_billing), a new one installed with demo data.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
db="${1:-crm_billing}"
port="${HTTP_PORT:-8069}"

rc="${ODOO_RC:-}"
[ -n "$rc" ] || for candidate in "$HOME/.odoorc" "$HOME/.openerp_serverrc"; do
    [ -f "$candidate" ] && rc="$candidate" && break
done
if [ -z "$rc" ] || [ ! -f "$rc" ]; then
    echo "Odoo 19 not found: set \$ODOO_RC or write ~/.odoorc (see README.rst, Installation)." >&2
    exit 2
fi
eval "$(python3 "$here/tools/find_odoo.py" "$rc")"
python3 -c "import num2words, qrcode" 2>/dev/null || python3 -m pip install -q num2words qrcode

addons="$(mktemp -d /tmp/crm_billing_addons.XXXXXX)"
ln -s "$here" "$addons/crm_billing"
opts=(-c "$rc" --addons-path="$addons,$ODOO_ADDONS_PATH" -d "$db")

# --- PostgreSQL: the configured one, or one of our own --------------------------
if ! python3 "$here/tools/pg_answers.py" "$rc"; then
    pg_bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
    [ -x "$pg_bin/initdb" ] || pg_bin="$(dirname "$(command -v initdb)")"
    data="$HOME/.local/share/crm_billing/pg"
    as_pg=()
    if [ "$(id -u)" = 0 ]; then as_pg=(runuser -u postgres --); fi
    if [ ! -d "$data/data" ]; then
        mkdir -p "$data"
        [ ${#as_pg[@]} -eq 0 ] || { chown postgres "$data"; chmod 755 "$HOME" "$HOME/.local" "$HOME/.local/share" "$HOME/.local/share/crm_billing" 2>/dev/null || true; }
        "${as_pg[@]}" "$pg_bin/initdb" -D "$data/data" -U odoo --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
    fi
    "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$data/data" -l "$data/server.log" -w status >/dev/null 2>&1 \
        || "${as_pg[@]}" "$pg_bin/pg_ctl" -D "$data/data" -l "$data/server.log" -w start \
            -o "-k $data -p 54329 -c listen_addresses=''" >/dev/null
    echo "Started a PostgreSQL of its own in $data"
    opts+=(--db_host="$data" --db_port=54329 --db_user=odoo --db_password=odoo)
fi

if python3 "$here/tools/pg_answers.py" "$rc" --database "$db" "${opts[@]}"; then
    echo "Upgrading crm_billing in database $db"
    python3 "$ODOO_BIN" "${opts[@]}" -u crm_billing --stop-after-init
else
    echo "Creating database $db with crm_billing and its demo data"
    python3 "$ODOO_BIN" "${opts[@]}" -i crm_billing --with-demo --stop-after-init
fi
echo "Serving $db at http://localhost:$port (admin / admin); Ctrl-C stops."
exec python3 "$ODOO_BIN" "${opts[@]}" --http-port="$port" --db-filter="^$db\$"
