# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Exit 0 when the PostgreSQL of an Odoo configuration answers (and, with
``--database NAME``, when that database exists and has crm_billing installed).
Command-line --db_host/--db_port/--db_user/--db_password override the file."""

import configparser
import sys

import psycopg2


def main(argv):
    config = configparser.ConfigParser(interpolation=None)
    config.read(argv[0])
    opts = dict(config.items("options")) if config.has_section("options") else {}
    database = None
    for arg in argv[1:]:
        if arg.startswith("--db_") and "=" in arg:
            key, value = arg[2:].split("=", 1)
            opts[key] = value
    if "--database" in argv:
        database = argv[argv.index("--database") + 1]
    params = {
        "dbname": database or "postgres",
        "host": opts.get("db_host") or None,
        "port": opts.get("db_port") or None,
        "user": opts.get("db_user") or None,
        "password": opts.get("db_password") or None,
        "connect_timeout": 3,
    }
    params = {k: v for k, v in params.items() if v not in (None, "False", "false")}
    try:
        with psycopg2.connect(**params) as cnx, cnx.cursor() as cr:
            if database:
                cr.execute("SELECT state FROM ir_module_module WHERE name = 'crm_billing'")
                row = cr.fetchone()
                return 0 if row and row[0] == "installed" else 1
    except psycopg2.Error:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
