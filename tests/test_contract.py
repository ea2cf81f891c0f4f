"""The output contract (contract/__init__.py): what every stack really exports matches the schema,
the docs are generated from it, and a change needs a contract_version bump of the right kind."""
import copy
import subprocess
import sys
from pathlib import Path

import pulumi
import pytest
from google.protobuf.json_format import MessageToDict
from pulumi.runtime import mocks as pmocks
from pulumi.runtime import rpc
from pulumi.runtime import settings as rsettings

import contract
from contract.types import INTEGER, STRING, ListOf, MapOf, Obj
from harness import SECRET_SIG, Mocks, RecordingMonitor, stack_config
from settings import load_settings
from stack import build, export_contract

ROOT = Path(__file__).resolve().parent.parent


def wire_outputs(stack: str, raw: dict, secrets: dict | None = None):
    """(settings, stack outputs) of the program under mocks, as the engine receives them and a
    StackReference hands them on: JSON values, a secret as a {sig: secret, value: …} wrapper."""
    settings = load_settings(stack, raw, secrets)
    mocks = Mocks()
    rsettings.ROOT.set(None)  # a fresh root stack: no outputs left over from another evaluation
    pulumi.runtime.set_mocks(mocks, project="itstack", stack=stack, preview=False, monitor=RecordingMonitor(mocks))

    @pulumi.runtime.test
    def run():
        export_contract(build(settings))

    run()
    wire = pmocks._sync_await(rpc.serialize_properties(pulumi.runtime.get_root_resource().outputs, {}))
    return settings, MessageToDict(wire)


def is_secret(v) -> bool:
    return isinstance(v, dict) and v.get(rpc._special_sig_key) == SECRET_SIG


def secret_inside(v) -> bool:
    if is_secret(v):
        return True
    if isinstance(v, dict):
        return any(secret_inside(x) for x in v.values())
    if isinstance(v, list):
        return any(secret_inside(x) for x in v)
    return False


def plain(v):
    if is_secret(v):
        return plain(v["value"])
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    if isinstance(v, list):
        return [plain(x) for x in v]
    return v


EXTERNAL_IDENTITY = {"mode": "external", "url": "ldap://ipa.corp.test:389", "baseDn": "dc=corp,dc=test",
                     "bindDn": "uid=kc,cn=sysaccounts,cn=etc,dc=corp,dc=test", "network": "corp-ldap"}
# name -> (stack, raw config, secret config): both stack files, and stacks without some services.
VARIANTS = {
    "dev": lambda: ("dev", stack_config("dev"), None),
    "prod": lambda: ("prod", stack_config("prod"), None),
    "dev-mariadb-redis": lambda: ("dev", {**stack_config("dev"), "services": ["mariadb", "redis"]}, None),
    "dev-postgresql": lambda: ("dev", {**stack_config("dev"), "services": ["postgresql"]}, None),
    "dev-external-directory": lambda: ("dev", {**stack_config("dev"), "identity": EXTERNAL_IDENTITY},
                                       {"directoryBindPassword": "s3cret-bind"}),
}


@pytest.fixture(scope="module", params=sorted(VARIANTS))
def exported(request):
    settings, outputs = wire_outputs(*VARIANTS[request.param]())
    return settings, outputs


def test_each_stack_exports_exactly_the_outputs_the_contract_gives_it(exported):
    settings, outputs = exported
    assert set(outputs) == contract.expected_keys(settings)


def test_each_output_has_its_contract_type(exported):
    _, outputs = exported
    errors = [e for k, v in outputs.items() for e in contract.BY_KEY[k].type.check(plain(v), k)]
    assert not errors, "\n".join(errors)


def test_secrets_are_secret_and_nothing_else_carries_one(exported):
    _, outputs = exported
    for k, v in outputs.items():
        if contract.BY_KEY[k].secret:
            assert is_secret(v), f"{k} must be a secret"
        else:
            assert not secret_inside(v), f"{k} is a plain output but carries a secret"


def test_the_variants_cover_every_output_and_its_absence():
    """Every output appears in some evaluated stack, and every conditional one is absent from one."""
    seen: list[set] = [contract.expected_keys(load_settings(*VARIANTS[n]())) for n in VARIANTS]
    for o in contract.OUTPUTS:
        assert any(o.key in s for s in seen), o.key
        if o.when is not contract.ALWAYS:
            assert any(o.key not in s for s in seen), o.key


def test_contract_version_output_is_the_schema_version(exported):
    _, outputs = exported
    assert outputs["contract_version"] == contract.VERSION


def test_export_refuses_a_key_that_is_not_in_the_contract():
    with pytest.raises(KeyError, match="not in the contract"):
        contract.export({"domain": "x", "kafka_url": "kafka://x"})


def test_docs_outputs_md_is_generated_from_the_schema():
    out = subprocess.run([sys.executable, "scripts/contract.py", "docs", "--check"], cwd=ROOT,
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    doc = (ROOT / "docs" / "outputs.md").read_text()
    for o in contract.OUTPUTS:
        assert f"| `{o.key}` |" in doc


# --- versions -------------------------------------------------------------------------------

def test_the_version_is_bumped_for_every_change_since_the_last_release():
    released = contract.snapshots()
    assert released, "no released contract in contract/snapshots/"
    current = contract.schema()
    if contract.VERSION in released:
        diff = contract.changes(released[contract.VERSION], current)
        assert released[contract.VERSION]["outputs"] == current["outputs"], (
            f"the outputs changed since {contract.VERSION} was released, without a contract_version bump "
            f"({contract.required_bump(released[contract.VERSION], current)} change): {diff}")
        return
    last = list(released)[-1]
    step = contract.bump_kind(last, contract.VERSION)
    assert step, f"contract VERSION {contract.VERSION} must be above the last release {last}"
    need = contract.required_bump(released[last], current)
    order = {None: 0, "patch": 1, contract.MINOR: 2, contract.MAJOR: 3}
    assert order[step] >= order[need], (
        f"{last} -> {contract.VERSION} is a {step} bump, but the outputs changed in a {need} way: "
        f"{contract.changes(released[last], current)}")


def test_every_output_names_a_released_or_the_current_version_as_since():
    released = contract.snapshots()
    last = released[list(released)[-1]]
    for o in contract.OUTPUTS:
        assert contract.parse_version(o.since) <= contract.parse_version(contract.VERSION), o.key
        if o.key in last["outputs"]:
            assert o.since == last["outputs"][o.key]["since"], f"{o.key}: since is history, keep it"
        else:
            assert o.since == contract.VERSION, f"{o.key} is new: since={contract.VERSION}"


def _edited(edit) -> dict:
    s = copy.deepcopy(contract.schema())
    edit(s["outputs"])
    return s


@pytest.mark.parametrize("what, edit, kind", [
    ("a key removed", lambda o: o.pop("domain"), contract.MAJOR),
    ("a key retyped", lambda o: o.update(domain={**o["domain"], "type": INTEGER.shape()}), contract.MAJOR),
    ("a secret made plain", lambda o: o["keycloak_admin_password"].update(secret=False), contract.MAJOR),
    ("an output made secret", lambda o: o["urls"].update(secret=True), contract.MAJOR),
    ("an object field removed", lambda o: o["identity"]["type"]["object"].pop("issuer"), contract.MAJOR),
    ("a map's values retyped", lambda o: o["urls"].update(type=MapOf(ListOf(STRING)).shape()), contract.MAJOR),
    ("present in fewer stacks", lambda o: o["domain"].update(when="traefik enabled"), contract.MAJOR),
    ("a key added", lambda o: o.update(sso_metadata_url={"type": STRING.shape(), "secret": False,
                                                         "when": "always", "since": "1.1.0"}), contract.MINOR),
    ("an object field added", lambda o: o["identity"]["type"]["object"].update(jwks_url="string"), contract.MINOR),
    ("an integration field added", lambda o: o["integrations"]["type"]["list"]["object"].update(since="string"),
     contract.MINOR),
    ("nothing", lambda o: None, None),
])
def test_a_change_is_classified_by_what_it_does_to_a_consumer(what, edit, kind):
    assert contract.required_bump(contract.schema(), _edited(edit)) == kind, what


@pytest.mark.parametrize("old, new, kind", [
    ("1.0.0", "2.0.0", contract.MAJOR), ("1.0.0", "1.1.0", contract.MINOR), ("1.2.0", "1.2.1", "patch"),
    ("1.2.0", "1.2.0", None), ("1.2.0", "1.1.9", None),
])
def test_bump_kind(old, new, kind):
    assert contract.bump_kind(old, new) == kind


def test_types_reject_what_a_consumer_could_not_use():
    assert INTEGER.check(15432.0, "p") == [] and INTEGER.check(1.5, "p") and INTEGER.check("1", "p")
    ident = contract.BY_KEY["identity"].type
    assert ident.check({"url": "u", "realm": "r", "issuer": "i"}, "identity") == ["identity: missing field 'admin_url'"]
    assert ident.check({"url": "u", "realm": "r", "issuer": "i", "admin_url": "a", "x": 1}, "identity")
    apps = contract.BY_KEY["apps"].type
    assert apps.check({"nextcloud": {"url": "https://c", "client_id": "nextcloud"}}, "apps") == []
    assert apps.check({"nextcloud": {"client_id": "nextcloud"}}, "apps")
