"""The repository's packaging promises: manifests, dependencies, Compose file, CI."""
import ast
import pathlib

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
EXPECTED_DEPENDS = {
    "lead_scoring": {"crm"},
    "lead_distribution": {"lead_scoring", "resource"},
    "lead_sla": {"lead_distribution", "lead_scoring"},
    "lead_channels": {"lead_scoring", "phone_validation", "utm", "mail"},
}
# small bridges that install themselves once the addons they join are there
BRIDGES = {
    "lead_dashboard": {"lead_scoring", "lead_distribution", "lead_sla", "lead_channels"},
    "lead_nurture_whatsapp": {"lead_sla", "lead_channels"},
}
MAIN_ADDONS = set(EXPECTED_DEPENDS)
EXPECTED_DEPENDS.update(BRIDGES)
ADDONS = [name for name in EXPECTED_DEPENDS if (ROOT / name / "__manifest__.py").exists()]


@pytest.mark.parametrize("addon", ADDONS)
def test_manifest(addon):
    manifest = ast.literal_eval((ROOT / addon / "__manifest__.py").read_text())
    assert manifest["version"] == "18.0.1.0.0"
    assert manifest["license"] == "LGPL-3"
    assert manifest["summary"]
    assert set(manifest["depends"]) == EXPECTED_DEPENDS[addon]
    for path in manifest.get("data", []):
        assert (ROOT / addon / path).exists(), "%s lists a missing file %s" % (addon, path)
    assert (ROOT / addon / "README.rst").exists()
    assert bool(manifest.get("auto_install")) == (addon in BRIDGES)


@pytest.mark.parametrize("addon", ADDONS)
def test_core_logic_does_not_import_odoo(addon):
    for path in (ROOT / addon / "core").glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            assert not any(n == "odoo" or n.startswith("odoo.") for n in names), path


def test_compose_file_runs_the_suite_and_the_tests():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert services["db"]["image"] == "postgres:16"
    assert "healthcheck" in services["db"]
    assert services["odoo"]["image"] == "odoo:18.0"
    assert services["odoo"]["depends_on"]["db"]["condition"] == "service_healthy"
    assert any(v.split(":")[1] == "/mnt/extra-addons" for v in services["odoo"]["volumes"]
               if v.startswith("./"))
    init = [a for a in services["odoo"]["command"] if a.startswith("--init=")][0]
    assert set(init.split("=", 1)[1].split(",")) == MAIN_ADDONS  # the bridges follow on their own
    assert "8069:8069" in services["odoo"]["ports"]
    named = {v.split(":")[0] for v in services["db"]["volumes"] + services["odoo"]["volumes"]}
    assert named & set(compose["volumes"]), "data lives in named volumes"
    assert services["test"]["entrypoint"][-1] == "scripts/test"


def test_ci_runs_the_readme_command_requiring_odoo():
    ci = (ROOT / ".ci" / "run").read_text()
    assert "REQUIRE_ODOO=1 ./scripts/test" in ci
    assert "./scripts/test" in (ROOT / "README.md").read_text()
