"""The dashboard's arithmetic (lead_dashboard/core/figures.py), without Odoo."""
import ast
import importlib.util
import pathlib
from datetime import date

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location(
    "lead_dashboard_figures", ROOT / "lead_dashboard" / "core" / "figures.py")
figures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(figures)


def test_rate_is_a_rounded_percentage_and_none_without_a_whole():
    assert figures.rate(1, 3) == 33.3
    assert figures.rate(0, 5) == 0.0
    assert figures.rate(3, 0) is None


def test_funnel_counts_a_lead_in_every_stage_it_passed():
    rows = figures.funnel([("new", 5), ("qualified", 3), ("proposition", 0), ("won", 2)])
    assert [r["reached"] for r in rows] == [10, 5, 2, 2]
    assert [r["reached_rate"] for r in rows] == [100.0, 50.0, 20.0, 20.0]
    assert rows[1]["reached_keys"] == ["qualified", "proposition", "won"]
    assert figures.funnel([]) == []


def test_compliance_judges_only_decided_clocks():
    result = figures.compliance({"met": 6, "late": 1, "breached": 1, "running": 9, "none": 4})
    assert result == {"on_time": 6, "late": 1, "breached": 1, "decided": 8, "rate": 75.0}
    # before lead_sla knows 'late', an answered-late lead is 'met' or 'breached': still counted
    assert figures.compliance({"met": 1, "breached": 1})["rate"] == 50.0
    assert figures.compliance({"running": 3})["rate"] is None


def test_load_and_per_lead():
    assert figures.load(3, 4) == 75.0
    assert figures.load(5, 0) is None  # no cap
    assert figures.per_lead(1000, 3) == 333.33
    assert figures.per_lead(1000, 0) is None


def test_period_is_checked_and_inclusive():
    assert figures.parse_period("2025-03-01", "2025-03-31") == (date(2025, 3, 1), date(2025, 3, 31))
    assert figures.preset_period(7, date(2025, 3, 7)) == (date(2025, 3, 1), date(2025, 3, 7))
    for bad, code in ((("2025-03-02", "2025-03-01"), "order"), (("2025-3-1x", "2025-03-01"), "format"),
                      ((None, "2025-03-01"), "format"), (("2024-01-01", "2025-01-02"), "length")):
        with pytest.raises(figures.PeriodError) as error:
            figures.parse_period(*bad)
        assert error.value.code == code


def test_manifest_and_core_stay_odoo_free():
    manifest = ast.literal_eval((ROOT / "lead_dashboard" / "__manifest__.py").read_text())
    assert manifest["version"] == "18.0.1.0.0"
    assert manifest["license"] == "LGPL-3"
    assert manifest["auto_install"] is True
    assert set(manifest["depends"]) == {"lead_scoring", "lead_distribution", "lead_sla", "lead_channels"}
    assert (ROOT / "lead_dashboard" / "README.rst").exists()
    tree = ast.parse((ROOT / "lead_dashboard" / "core" / "figures.py").read_text())
    imported = [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    imported += [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    assert not any(name.split(".")[0] == "odoo" for name in imported)
