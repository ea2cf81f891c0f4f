"""examples/consumer under mocks, reading what our dev stack really exports.

The itstack dev stack is evaluated first (as in test_contract); its outputs, secrets kept as the
engine marks them, are what the consumer's StackReference returns. So the consumer is checked
against the contract as the program implements it, not against a hand-written fixture.
"""
import runpy
from pathlib import Path

import pulumi
import pytest
from google.protobuf.json_format import MessageToDict
from pulumi.runtime import mocks as pmocks
from pulumi.runtime import rpc
from pulumi.runtime import settings as rsettings

import contract

from harness import Mocks, RecordingMonitor, stack_config
from test_contract import is_secret, plain, wire_outputs

ROOT = Path(__file__).resolve().parent.parent
PROGRAM = ROOT / "examples" / "consumer" / "__main__.py"
REF = "organization/itstack/dev"


class ConsumerMocks(Mocks):
    def __init__(self, itstack_outputs: dict):
        self.outputs = {k: plain(v) for k, v in itstack_outputs.items()}
        self.secret_names = sorted(k for k, v in itstack_outputs.items() if is_secret(v))

    def new_resource(self, args):
        if args.typ == "pulumi:pulumi:StackReference":
            assert args.name == REF
            return REF, {"name": REF, "outputs": self.outputs, "secretOutputNames": self.secret_names}
        if args.typ == "keycloak:openid/client:Client":
            return f"{args.name}-id", {**args.inputs, "clientSecret": "generated-client-secret"}
        return super().new_resource(args)


def run_consumer(itstack_outputs: dict):
    mocks = ConsumerMocks(itstack_outputs)
    monitor = RecordingMonitor(mocks)
    rsettings.ROOT.set(None)
    pulumi.runtime.set_mocks(mocks, project="itstack-consumer", stack="dev", preview=False, monitor=monitor)
    pulumi.runtime.set_all_config({
        "itstack-consumer:itstackStack": REF,
        "itstack-consumer:keycloakClientId": "wiki-provisioner",
        "itstack-consumer:keycloakClientSecret": "issued-kc-secret",
        "itstack-consumer:databaseAdminUser": "wiki_admin",
        "itstack-consumer:databaseAdminPassword": "issued-db-secret",
    }, ["itstack-consumer:keycloakClientSecret", "itstack-consumer:databaseAdminPassword"])
    try:
        @pulumi.runtime.test
        def run():
            runpy.run_path(str(PROGRAM), run_name="__main__")

        run()
    finally:
        pulumi.runtime.set_all_config({}, [])
    wire = pmocks._sync_await(rpc.serialize_properties(pulumi.runtime.get_root_resource().outputs, {}))
    return monitor.records, MessageToDict(wire)


@pytest.fixture(scope="module")
def itstack_dev():
    return wire_outputs("dev", stack_config("dev"))[1]


@pytest.fixture(scope="module")
def consumer(itstack_dev):
    return run_consumer(itstack_dev)


def _one(records, typ):
    found = [r for r in records if r.type == typ]
    assert len(found) == 1, (typ, [r.type for r in records])
    return found[0]


def test_the_consumer_reads_itstacks_identity_and_makes_its_own_client(consumer, itstack_dev):
    records, outputs = consumer
    identity = plain(itstack_dev["identity"])
    domain = itstack_dev["domain"]
    kc = _one(records, "pulumi:providers:keycloak")
    assert kc.inputs["url"] == identity["admin_url"] and kc.inputs["realm"] == identity["realm"]
    assert "clientSecret" in kc.secret_inputs  # its issued credential stays a secret
    client = _one(records, "keycloak:openid/client:Client")
    assert client.inputs["realmId"] == identity["realm"] and client.inputs["clientId"] == "wiki"
    assert client.inputs["validRedirectUris"] == [f"https://wiki.{domain}/oauth2/callback"]
    assert not any("*" in u for u in client.inputs["validRedirectUris"])
    assert plain(outputs["oidc"])["issuer"] == identity["issuer"]
    assert is_secret(outputs["oidc_client_secret"])


def test_the_consumer_gets_its_own_database_on_itstacks_postgresql(consumer, itstack_dev):
    records, outputs = consumer
    endpoint = plain(itstack_dev["database_endpoints"])["postgresql"]
    pg = _one(records, "pulumi:providers:postgresql")
    assert pg.inputs["host"] == endpoint["host"] and int(pg.inputs["port"]) == int(endpoint["port"])
    assert pg.inputs["username"] == "wiki_admin" and "password" in pg.secret_inputs
    role = _one(records, "postgresql:index/role:Role")
    assert role.inputs["name"] == "wiki_user" and "password" in role.secret_inputs
    db = _one(records, "postgresql:index/database:Database")
    assert db.inputs["name"] == "wiki" and db.inputs["owner"] == "wiki_user"
    assert plain(outputs["database"]) == {"host": endpoint["host"], "port": int(endpoint["port"]), "name": "wiki",
                                         "user": "wiki_user"}
    assert is_secret(outputs["database_password"])


def test_a_secret_read_through_the_reference_stays_secret(itstack_dev):
    """What a consumer is handed for a secret output is a secret (the reference keeps it)."""
    mocks = ConsumerMocks(itstack_dev)
    rsettings.ROOT.set(None)
    pulumi.runtime.set_mocks(mocks, project="itstack-consumer", stack="dev", preview=False,
                             monitor=RecordingMonitor(mocks))

    @pulumi.runtime.test
    def run():
        ref = pulumi.StackReference(REF)
        pulumi.export("pw", ref.get_output("keycloak_admin_password"))
        pulumi.export("domain", ref.get_output("domain"))

    run()
    wire = pmocks._sync_await(rpc.serialize_properties(pulumi.runtime.get_root_resource().outputs, {}))
    out = MessageToDict(wire)
    assert is_secret(out["pw"]) and plain(out["pw"]) == plain(itstack_dev["keycloak_admin_password"])
    assert out["domain"] == itstack_dev["domain"]


def test_a_major_contract_bump_stops_the_consumer(itstack_dev):
    major = int(itstack_dev["contract_version"].split(".")[0]) + 1
    bumped = {**itstack_dev, "contract_version": f"{major}.0.0"}
    with pytest.raises(Exception, match=f"contract is {major}.0.0"):
        run_consumer(bumped)


def test_the_consumer_reads_no_secret_output():
    """Secret outputs are the platform team's break-glass access, not an API for other teams."""
    source = PROGRAM.read_text()
    for o in contract.OUTPUTS:
        if o.secret:
            assert f'"{o.key}"' not in source, o.key
