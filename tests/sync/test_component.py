"""components/business/sync.py under Pulumi mocks: the prod and dev programs as the composition
root builds them, plus the sync service deployed the way the lead will wire it (sync.deploy)."""
import ast
from pathlib import Path

import pulumi
import pytest

import harness
from components.business import sync
from stack import build, export_contract

ROOT = Path(__file__).resolve().parents[2]


def evaluate(stack):
    settings = harness.load_settings(stack, harness.stack_config(stack), None)
    mocks = harness.Mocks()
    monitor = harness.RecordingMonitor(mocks)
    pulumi.runtime.set_mocks(mocks, project="itstack", stack=stack, preview=False, monitor=monitor)
    holder = {}

    @pulumi.runtime.test
    def run():
        p = build(settings)
        export_contract(p)
        apps = {
            "SUITECRM": sync.AppAccess(url="https://crm.example", settings={"CLIENT_ID": "itstack-sync"},
                                       secrets={"SECRET": pulumi.Output.secret("crm-client-secret-value")}),
            "ODOO": sync.AppAccess(url="https://erp.example", settings={"DB": "odoo", "USER": "itstack-sync"},
                                   secrets={"PASSWORD": pulumi.Output.secret("odoo-password-value")}),
            "AMI": sync.AppAccess(url="pbx.internal:5038", settings={"USER": "itstack-sync"},
                                  secrets={"SECRET": pulumi.Output.secret("ami-secret-value")}),
        }
        holder["sync"] = sync.deploy(p, apps)
        holder["platform"] = p

    run()
    return harness.Evaluation(settings, holder["platform"], monitor.records, mocks.invokes)


@pytest.fixture(scope="module")
def prod():
    return evaluate("prod")


def test_prod_places_the_service_on_lab_biz1_with_its_own_database(prod):
    c = prod.container("itstack-prod-itstack-sync")
    providers = {r.urn: r for r in prod.records}
    assert "docker-lab-biz1" in c.provider
    env = dict(e.split("=", 1) for e in c.inputs["envs"])
    assert env["ITSTACK_SYNC_DB_NAME"] == "itstack_sync" and env["ITSTACK_SYNC_DB_USER"] == "itstack_sync_user"
    db = prod.named("postgresql:index/database:Database", "postgresql-itstack_sync-db")
    assert db.inputs["name"] == "itstack_sync"
    # the container waits for its database and role
    assert prod.before(db.urn, c.urn)
    assert (env["ITSTACK_SYNC_AMI_HOST"], env["ITSTACK_SYNC_AMI_PORT"]) == ("pbx.internal", "5038")
    assert env["ITSTACK_SYNC_SUITECRM_URL"] == "https://crm.example"


def test_every_credential_is_a_secret_file_never_an_env_value(prod):
    c = prod.container("itstack-prod-itstack-sync")
    env = dict(e.split("=", 1) for e in c.inputs["envs"])
    files = {u["file"]: u["content"] for u in c.inputs["uploads"]}
    assert "uploads" in c.secret_inputs and "uploads" in c.additional_secret_outputs
    for key in ("DB_PASSWORD", "TRIGGER_TOKEN", "SUITECRM_SECRET", "ODOO_PASSWORD", "AMI_SECRET"):
        assert env[f"ITSTACK_SYNC_{key}_FILE"] in files
    assert files[env["ITSTACK_SYNC_ODOO_PASSWORD_FILE"]] == "odoo-password-value"
    text = repr(c.inputs["envs"]) + repr(c.inputs.get("labels"))
    for v in files.values():
        assert v not in text


def test_image_is_built_from_the_package_and_rebuilt_when_it_changes(prod):
    img = prod.named("docker:index/remoteImage:RemoteImage", "itstack-sync-image")
    assert img.inputs["build"]["context"] == str(ROOT / "itstack_sync")
    assert (ROOT / "itstack_sync" / img.inputs["build"]["dockerfile"]).is_file()
    digest = sync.package_hash()
    assert img.inputs["name"].endswith(digest[:16]) and img.inputs["triggers"] == {"package": digest}
    c = prod.container("itstack-prod-itstack-sync")
    assert c.inputs["image"] == f"sha256:{__import__('hashlib').sha256(b'itstack-sync-image').hexdigest()}"
    assert c.inputs["healthcheck"]["tests"][0] == "CMD-SHELL" and c.inputs["wait"] is True


def test_package_hash_follows_the_files(tmp_path):
    (tmp_path / "a.py").write_text("x = 1\n")
    before = sync.package_hash(tmp_path)
    (tmp_path / "a.py").write_text("x = 2\n")
    assert sync.package_hash(tmp_path) != before


def test_dev_uses_the_single_host():
    dev = evaluate("dev")
    c = dev.container("itstack-dev-itstack-sync")
    assert sync.place(dev.platform) == dev.settings.placement["odoo"]
    assert f"docker-{sync.place(dev.platform)}" in c.provider


def test_unknown_app_is_refused():
    with pytest.raises(ValueError, match="unknown app"):
        sync.SyncService("x", host=None, database=None, apps={"SHAREPOINT": None})


def test_the_program_never_imports_the_service():
    """The Pulumi program and its components import nothing of itstack_sync or its runtime deps."""
    banned = {"itstack_sync", "requests", "zammad_py", "asterisk", "pg8000"}
    for path in [ROOT / "__main__.py", ROOT / "stack.py", ROOT / "settings.py", *(ROOT / "components").rglob("*.py")]:
        if "files" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            for n in names:
                assert n.split(".")[0] not in banned, f"{path.relative_to(ROOT)} imports {n}"
