# Copyright 2026 crm_billing authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Generate README.rst from the manifest and the readme/ fragments, OCA style.

    python3 tools/gen_readme.py            write README.rst
    python3 tools/gen_readme.py --check    exit 1 when README.rst is not up to date

The fragments are Markdown; this converts the subset they use (headings, lists,
fenced code, inline code, links, images, simple pipe tables) to reStructuredText.

Why not OCA's own ``oca-gen-addon-readme``: it ships in OCA's maintainer-tools
(``oca-maintainers-tools``), which is not published on PyPI (OCA installs it from
its git repository: ``pip index versions oca-maintainers-tools`` finds nothing),
and it converts Markdown fragments with pypandoc, i.e. the pandoc program. It
therefore cannot be installed offline from the registries this project uses
(PyPI, Debian); when it can, it replaces this script.
"""

import ast
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FRAGMENTS = [
    ("DESCRIPTION.md", None),
    ("INSTALL.md", "Installation"),
    ("CONFIGURE.md", "Configuration"),
    ("USAGE.md", "Usage"),
    ("ARCHITECTURE.md", "Architecture"),
    ("TESTS.md", "Running the tests"),
    ("BENCHMARK.md", "Benchmark"),
    ("HISTORY.md", "Changelog"),
    ("CONTRIBUTORS.md", "Contributors"),
]
LEVELS = {0: "=", 1: "~", 2: "-", 3: "^", 4: '"'}


def inline(text):
    text = re.sub(r"!\[([^\]]*)\]\(([^)]+)\)", r"|img:\2|", text)
    text = re.sub(r"\[([^\]]+)\]\(([^)]+)\)", r"`\1 <\2>`_", text)
    text = re.sub(r"(?<!`)`([^`]+)`(?!`)", r"``\1``", text)
    return text


def heading(text, level):
    return [text, LEVELS[level] * len(text), ""]


def table(rows):
    cells = [[c.strip() for c in row.strip().strip("|").split("|")] for row in rows]
    cells = [row for row in cells if not all(re.fullmatch(r":?-+:?", c) for c in row)]
    out = [".. list-table::", "   :header-rows: 1", ""]
    for row in cells:
        out.append("   * - " + inline(row[0]))
        out += ["     - " + inline(c) for c in row[1:]]
    return out + [""]


def convert(markdown, base_level):
    out = []
    lines = markdown.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.lstrip().startswith("```"):
            # a fenced block, also indented inside a list item
            indent = line[: len(line) - len(line.lstrip())]
            lang = line.strip()[3:].strip()
            out += [indent + (f".. code-block:: {lang}" if lang else "::"), ""]
            i += 1
            while i < len(lines) and not lines[i].lstrip().startswith("```"):
                body = lines[i][len(indent) :] if lines[i].startswith(indent) else lines[i]
                out.append(indent + "   " + body if lines[i].strip() else "")
                i += 1
            out.append("")
        elif line.startswith("|"):
            rows = []
            while i < len(lines) and lines[i].startswith("|"):
                rows.append(lines[i])
                i += 1
            out += table(rows)
            continue
        elif match := re.match(r"^(#+)\s+(.*)", line):
            out += heading(inline(match.group(2)), base_level + len(match.group(1)) - 1)
        elif match := re.match(r"^\s*!\[([^\]]*)\]\(([^)]+)\)\s*$", line):
            out += [f".. image:: {match.group(2)}", f"   :alt: {match.group(1)}", ""]
        else:
            out.append(inline(line))
        i += 1
    return out


def render():
    manifest = ast.literal_eval(
        (ROOT / "__manifest__.py").read_text(encoding="utf-8").split("\n", 2)[2]
    )
    title = manifest["name"]
    out = ["=" * len(title), title, "=" * len(title), ""]
    out += [
        f".. |badge1| image:: https://img.shields.io/badge/licence-{manifest['license'].replace('-', '--')}-blue.png",
        "    :alt: License",
        f".. |badge2| image:: https://img.shields.io/badge/Odoo-{manifest['version'][:4]}-875A7B.png",
        "    :alt: Odoo version",
        "",
        "|badge1| |badge2|",
        "",
        f"**{manifest['summary']}** (addon ``crm_billing``, version {manifest['version']}, "
        f"depends on {', '.join('``%s``' % d for d in manifest['depends'])}).",
        "",
    ]
    toc_done = False
    for name, title in FRAGMENTS:
        path = ROOT / "readme" / name
        if not path.exists():
            continue
        if title:
            if not toc_done:
                out += ["**Table of contents**", "", ".. contents::", "   :local:", ""]
                toc_done = True
            out += heading(title, 0)
        out += convert(path.read_text(encoding="utf-8").strip(), 1)
        out.append("")
    text = "\n".join(out).rstrip() + "\n"
    return re.sub(r"\n{3,}", "\n\n", text)


def render_html(text):
    """static/description/index.html, the addon's page in Odoo's Apps menu."""
    from docutils.core import publish_parts

    parts = publish_parts(
        text,
        writer_name="html",
        settings_overrides={"report_level": 5, "embed_stylesheet": False, "stylesheet_path": ""},
    )
    # the page is served from static/description/: its images are its neighbours
    body = parts["html_body"].replace('src="static/description/', 'src="')
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8"/>'
        f"<title>{parts['title']}</title></head>\n<body>\n{body}</body></html>\n"
    )


def main(argv):
    text = render()
    html = render_html(text)
    targets = {ROOT / "README.rst": text, ROOT / "static" / "description" / "index.html": html}
    if "--check" in argv:
        stale = [
            p.name
            for p, content in targets.items()
            if not p.exists() or p.read_text(encoding="utf-8") != content
        ]
        if stale:
            print(f"{', '.join(stale)} not up to date: run python3 tools/gen_readme.py")
            return 1
        return 0
    for path, content in targets.items():
        path.write_text(content, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
