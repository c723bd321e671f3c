# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
#
# The shell side of tools/odoo_env.py, sourced by tools/test.sh, tools/serve.sh and
# tools/host_suite.sh: finds Odoo and the Python that runs it, and starts a
# throwaway PostgreSQL in a temporary folder.
#
#   find_odoo            sets ODOO_RC_FILE, ODOO_PYTHON, ODOO_BIN, ODOO_ADDONS_PATH
#                        (or dies saying what is missing)
#   start_throwaway_pg   sets WORK (temporary folder), PG_BIN, PG_HOST (socket
#                        folder), PG_PORT; the cluster is stopped and WORK removed
#                        on exit unless KEEP=1
#   free_port            prints a free TCP port of 127.0.0.1
#   odoo_opts DB PORT    prints nothing; sets the array ODOO_OPTS for odoo-bin
#
# The caller defines die() and sets `here` (the addon folder).

find_odoo() {
    local found
    found="$(python3 "$here/tools/odoo_env.py" rc python bin addons_path)" \
        || die "crm_billing's tools cannot run Odoo 19 (see the message above)."
    { read -r ODOO_RC_FILE; read -r ODOO_PYTHON; read -r ODOO_BIN; read -r ODOO_ADDONS_PATH; } <<<"$found"
    echo "Odoo 19.0 at $ODOO_BIN, run by $ODOO_PYTHON (configuration $ODOO_RC_FILE)"
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

_pg_as=()
_stop_throwaway_pg() {
    "${_pg_as[@]}" "$PG_BIN/pg_ctl" -D "$WORK/pg/data" -m immediate stop >/dev/null 2>&1 || true
    if [ "${KEEP:-0}" = 1 ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}

start_throwaway_pg() {  # start_throwaway_pg PREFIX
    PG_BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
    [ -x "$PG_BIN/initdb" ] || PG_BIN="$(dirname "$(command -v initdb || echo /nonexistent)")"
    [ -x "$PG_BIN/initdb" ] || die "PostgreSQL server binaries (initdb, pg_ctl) not found."
    WORK="$(mktemp -d "/tmp/$1.XXXXXX")"
    chmod 755 "$WORK"
    if [ "$(id -u)" = 0 ]; then
        id postgres >/dev/null 2>&1 || die "running as root needs a 'postgres' system user for PostgreSQL"
        _pg_as=(runuser -u postgres --)
    fi
    mkdir -p "$WORK/pg"
    [ ${#_pg_as[@]} -eq 0 ] || chown postgres "$WORK/pg"
    PG_HOST="$WORK/pg"
    PG_PORT="$(free_port)"
    trap _stop_throwaway_pg EXIT
    "${_pg_as[@]}" "$PG_BIN/initdb" -D "$WORK/pg/data" -U odoo --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
    "${_pg_as[@]}" "$PG_BIN/pg_ctl" -D "$WORK/pg/data" -l "$WORK/pg/server.log" -w start \
        -o "-k $WORK/pg -p $PG_PORT -c listen_addresses='' -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" >/dev/null
    # the addon, under its own name, on the addons path
    mkdir -p "$WORK/addons"
    ln -s "$here" "$WORK/addons/crm_billing"
}

odoo_opts() {  # odoo_opts DB HTTP_PORT
    ODOO_OPTS=(-c "$ODOO_RC_FILE" --addons-path="$WORK/addons,$ODOO_ADDONS_PATH"
        --db_host="$PG_HOST" --db_port="$PG_PORT" --db_user=odoo --db_password=odoo
        --data-dir="$WORK/data" --http-interface=127.0.0.1 --http-port="$2"
        --max-cron-threads=0 -d "$1")
}
