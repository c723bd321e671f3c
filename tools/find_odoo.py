# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Find Odoo 19 from an Odoo configuration file.

Prints shell assignments (ODOO_BIN, ODOO_VERSION, ODOO_ADDONS_PATH) for the
Odoo tree whose addons folders the configuration lists; exits 1 with a message
saying what to provide when there is none, or when it is not Odoo 19.0.
"""

import ast
import configparser
import os
import re
import shlex
import sys


def fail(message):
    print(f"echo {shlex.quote('Odoo 19 not found: ' + message)} >&2; false")
    sys.exit(1)


def release_version(root):
    path = os.path.join(root, "odoo", "release.py")
    if not os.path.isfile(path):
        return None
    with open(path, encoding="utf-8") as release:
        match = re.search(r"^version_info\s*=\s*(\(.*\))", release.read(), re.M)
    if not match:
        return None
    version = match.group(1).replace("FINAL", "'final'").replace("ALPHA", "'alpha'")
    try:
        return ast.literal_eval(
            version.replace("BETA", "'beta'").replace("RELEASE_CANDIDATE", "'rc'")
        )
    except (ValueError, SyntaxError):
        return None


def main(rc):
    config = configparser.ConfigParser(interpolation=None)
    config.read(rc)
    if not config.has_option("options", "addons_path"):
        fail(f"{rc} has no addons_path; list Odoo's 'addons' and 'odoo/addons' folders there.")
    paths = [
        os.path.abspath(os.path.expanduser(p.strip()))
        for p in config.get("options", "addons_path").split(",")
        if p.strip()
    ]
    roots = []
    for path in paths:
        for root in (os.path.dirname(path), os.path.dirname(os.path.dirname(path))):
            if os.path.isfile(os.path.join(root, "odoo-bin")) and root not in roots:
                roots.append(root)
    if not roots:
        fail(f"no folder of addons_path in {rc} belongs to an Odoo tree with odoo-bin.")
    for root in roots:
        version = release_version(root)
        if version and version[:2] == (19, 0):
            print(f"ODOO_BIN={shlex.quote(os.path.join(root, 'odoo-bin'))}")
            print("ODOO_VERSION=19.0")
            print(f"ODOO_ADDONS_PATH={shlex.quote(','.join(paths))}")
            return
    fail(f"the Odoo tree at {roots[0]} is not Odoo 19.0 (odoo/release.py).")


if __name__ == "__main__":
    main(sys.argv[1])
