# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Find the Odoo 19 that crm_billing's tools run: its configuration, its tree and
the Python interpreter that can run it.

Used by tools/test.sh, tools/serve.sh, tools/host_suite.sh and bench/run.py, so
that there is one way of finding Odoo:

1. the configuration: ``$ODOO_RC``, else ``~/.odoorc``, else ``~/.openerp_serverrc``;
2. the Odoo tree: the folder with ``odoo-bin`` above a folder of the configuration's
   ``addons_path`` whose ``odoo/release.py`` says 19.0;
3. the interpreter, the first of these that imports that tree's Odoo:
   ``$ODOO_PYTHON``; the interpreter of an ``odoo`` launcher on ``$PATH`` (what
   ``pip install -e`` of the tree puts in a virtualenv's ``bin``); the active
   virtualenv's (``$VIRTUAL_ENV``); a virtualenv inside the tree (``.venv``,
   ``venv``); the interpreter of the tree's ``odoo-bin`` (its ``#!`` line).
   When none imports Odoo, the message names each one tried and the module it
   lacked (for instance ``No module named 'babel'``).

From the shell, without ``eval``: ``python3 tools/odoo_env.py python bin
addons_path`` prints those values, one per line, for ``read``; on failure it
prints the reason to stderr and exits 1. From Python: ``odoo_env.find()``.
"""

import configparser
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass

#: what a candidate interpreter must import; odoo.cli and odoo.http pull in
#: Odoo's own requirements (babel, lxml, psycopg2, werkzeug, ...)
PROBE = "import sys; sys.path.insert(0, sys.argv[1]); import odoo.cli, odoo.http"


class OdooNotFound(Exception):
    """No usable Odoo 19; the message (to print after "Odoo 19 ") says what to provide."""


@dataclass(frozen=True)
class Odoo:
    rc: str  #: the configuration file
    root: str  #: the Odoo tree (holds odoo-bin)
    bin: str  #: its odoo-bin
    python: str  #: an interpreter that imports it
    addons_path: str  #: the configuration's addons_path, absolute
    version: str = "19.0"

    def command(self, *args):
        """The argv of ``odoo-bin -c RC ARGS`` run by the right interpreter."""
        return [self.python, self.bin, "-c", self.rc, *args]


def find_rc():
    rc = os.environ.get("ODOO_RC")
    if rc:
        if not os.path.isfile(rc):
            raise OdooNotFound(f"not found: $ODOO_RC names {rc}, which does not exist.")
        return os.path.abspath(rc)
    for candidate in ("~/.odoorc", "~/.openerp_serverrc"):
        path = os.path.expanduser(candidate)
        if os.path.isfile(path):
            return path
    raise OdooNotFound(
        "not found: no Odoo configuration file. Install Odoo 19.0 Community and point $ODOO_RC "
        "(or ~/.odoorc) at a configuration whose addons_path lists its 'addons' and "
        "'odoo/addons' folders (see README.rst, Installation)."
    )


def release_version(root):
    path = os.path.join(root, "odoo", "release.py")
    if not os.path.isfile(path):
        return None
    with open(path, encoding="utf-8") as release:
        match = re.search(r"^version_info\s*=\s*\((\d+),\s*(\d+)", release.read(), re.M)
    return (int(match.group(1)), int(match.group(2))) if match else None


def addons_paths(rc):
    config = configparser.ConfigParser(interpolation=None)
    config.read(rc)
    if not config.has_option("options", "addons_path"):
        raise OdooNotFound(
            f"not found: {rc} has no addons_path; list Odoo's 'addons' and 'odoo/addons' folders there."
        )
    return [
        os.path.abspath(os.path.expanduser(p.strip()))
        for p in config.get("options", "addons_path").split(",")
        if p.strip()
    ]


def find_root(rc, paths):
    roots = []
    for path in paths:
        for root in (os.path.dirname(path), os.path.dirname(os.path.dirname(path))):
            if os.path.isfile(os.path.join(root, "odoo-bin")) and root not in roots:
                roots.append(root)
    if not roots:
        raise OdooNotFound(
            f"not found: no folder of addons_path in {rc} belongs to an Odoo tree with odoo-bin."
        )
    for root in roots:
        if release_version(root) == (19, 0):
            return root
    raise OdooNotFound(
        f"not found: the Odoo tree at {roots[0]} is not Odoo 19.0 (odoo/release.py)."
    )


def shebang_python(script):
    """The interpreter named by a script's #! line, or None."""
    try:
        with open(script, "rb") as f:
            line = f.readline().decode("utf-8", "replace").strip()
    except OSError:
        return None
    if not line.startswith("#!"):
        return None
    words = line[2:].split()
    if not words:
        return None
    if os.path.basename(words[0]) == "env":
        words = [w for w in words[1:] if not w.startswith("-")]
        return shutil.which(words[0]) if words else None
    return words[0]


def candidates(root):
    """(where it comes from, interpreter) in the order they are tried."""
    if os.environ.get("ODOO_PYTHON"):
        yield "$ODOO_PYTHON", os.environ["ODOO_PYTHON"]
    launcher = shutil.which("odoo")
    if launcher:
        yield f"the odoo launcher {launcher}", shebang_python(launcher)
    if os.environ.get("VIRTUAL_ENV"):
        yield "the active virtualenv", os.path.join(os.environ["VIRTUAL_ENV"], "bin", "python")
    for venv in (".venv", "venv"):
        python = os.path.join(root, venv, "bin", "python")
        if os.path.exists(python):
            yield f"the virtualenv {os.path.join(root, venv)}", python
    odoo_bin = os.path.join(root, "odoo-bin")
    yield f"the #! line of {odoo_bin}", shebang_python(odoo_bin)


def probe(python, root):
    """None when ``python`` imports Odoo from ``root``, else why not (one line)."""
    if not python:
        return "no interpreter"
    if not (os.path.isfile(python) and os.access(python, os.X_OK)):
        return f"{python} is not an executable"
    try:
        out = subprocess.run(
            [python, "-c", PROBE, root],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{python}: {exc}"
    if out.returncode == 0:
        return None
    lines = [line for line in out.stderr.strip().splitlines() if line.strip()]
    return f"{python}: {lines[-1] if lines else f'exit {out.returncode}'}"


def find_python(root):
    tried = []
    seen = set()
    for origin, python in candidates(root):
        if python and python in seen:
            continue
        seen.add(python)
        reason = probe(python, root)
        if reason is None:
            return python
        tried.append(f"  {origin}: {reason}")
    raise OdooNotFound(
        f"found at {root}, but no Python interpreter here can run it:\n"
        + "\n".join(tried)
        + "\nInstall Odoo's requirements (pip install -r "
        + os.path.join(root, "requirements.txt")
        + ") into that interpreter, or set $ODOO_PYTHON to the python of the "
        "virtualenv that has them (see readme/INSTALL.md)."
    )


def find():
    """The Odoo 19 of the configuration, with an interpreter that runs it."""
    rc = find_rc()
    paths = addons_paths(rc)
    root = find_root(rc, paths)
    return Odoo(
        rc=rc,
        root=root,
        bin=os.path.join(root, "odoo-bin"),
        python=find_python(root),
        addons_path=",".join(paths),
    )


def main(fields):
    known = ("rc", "root", "bin", "python", "addons_path", "version")
    unknown = [f for f in fields if f not in known]
    if unknown or not fields:
        sys.exit(f"usage: odoo_env.py FIELD... (fields: {', '.join(known)})")
    try:
        odoo = find()
    except OdooNotFound as exc:
        print(f"Odoo 19 {exc}", file=sys.stderr)
        sys.exit(1)
    for field in fields:
        print(getattr(odoo, field))


if __name__ == "__main__":
    main(sys.argv[1:])
