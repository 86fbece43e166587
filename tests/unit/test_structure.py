"""Issue 10's rules on the addons' own code, checked on every run: small files,
small functions, and none of Odoo's private internals outside tests."""
import ast
import os
import re

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ADDONS = sorted(d for d in os.listdir(ROOT) if os.path.isfile(os.path.join(ROOT, d, "__manifest__.py")))
PRIVATE = re.compile(r"\b(_where_clauses|_joins|_tables|get_until_miss|tocompute|get_dirty_records|_notifydb|"
                     r"execute_values)\b|env\.cache\b|cr\._obj\b|INSERT\s+INTO\s+(mail_message|mail_notification|"
                     r"mail_followers|ir_cron_trigger)\b", re.IGNORECASE)


def addon_sources():
    for addon in ADDONS:
        for folder, _dirs, files in os.walk(os.path.join(ROOT, addon)):
            if os.sep + "tests" in folder[len(ROOT):]:
                continue
            for name in files:
                if name.endswith(".py"):
                    yield os.path.join(folder, name)


SOURCES = sorted(addon_sources())


def test_the_addons_have_sources():
    assert len(ADDONS) >= 4 and len(SOURCES) > 50


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: os.path.relpath(p, ROOT))
def test_small_files_small_functions_public_apis(path):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    assert text.count("\n") <= 600, "over 600 lines"
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            length = node.end_lineno - node.lineno + 1
            assert length <= 80, "%s is %d lines long" % (node.name, length)
    code = "\n".join(line.split("#", 1)[0] for line in text.splitlines())
    found = PRIVATE.search(code)
    assert not found, "private Odoo internal %r" % found.group(0)
