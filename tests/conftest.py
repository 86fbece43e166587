"""Make each addon's pure-Python ``core`` package importable without Odoo.

``lead_scoring/core`` is registered as the top-level package
``lead_scoring_core`` (and likewise for the other addons), so the decision
logic can be tested and benchmarked with plain pytest, without importing the
addon itself (which needs Odoo).
"""
import importlib.util
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
ADDONS = ("lead_scoring", "lead_distribution", "lead_sla", "lead_channels")


def register_cores():
    for addon in ADDONS:
        core = ROOT / addon / "core"
        name = "%s_core" % addon
        if name in sys.modules or not (core / "__init__.py").exists():
            continue
        spec = importlib.util.spec_from_file_location(
            name, core / "__init__.py", submodule_search_locations=[str(core)])
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)


register_cores()
