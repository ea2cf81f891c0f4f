"""Evaluate the whole program under Pulumi mocks and record every resource registration.

The recorder keeps what the engine would see: type, name, inputs, which inputs are secret,
dependencies, parent, protect and additional_secret_outputs. Tests assert on that record.
"""
from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.runtime import mocks as pmocks
from pulumi.runtime import rpc
from pulumi.runtime.proto import resource_pb2

import components.tiers  # noqa: F401  (registers application tiers, as __main__ does)
from settings import Settings, load_settings
from stack import Platform, build, export_contract

# The signing certificate (base64 DER) the mocked realm reports: apps that pin the IdP's
# certificate must carry exactly this.
REALM_CERT = base64.b64encode(b"fake-der-certificate-of-the-realm" * 4).decode()

SECRET_SIG = rpc._special_secret_sig if hasattr(rpc, "_special_secret_sig") else "1b47061264138c4ac30d75fd1eb44270"


def _has_secret(value) -> bool:
    """True if a protobuf Value carries a Pulumi secret anywhere inside."""
    kind = value.WhichOneof("kind")
    if kind == "struct_value":
        fields = value.struct_value.fields
        if rpc._special_sig_key in fields and fields[rpc._special_sig_key].string_value == SECRET_SIG:
            return True
        return any(_has_secret(v) for v in fields.values())
    if kind == "list_value":
        return any(_has_secret(v) for v in value.list_value.values)
    return False


def _unwrap(value):
    """Plain values for assertions: drop the secret wrapper (secretness is kept in secret_inputs)."""
    if isinstance(value, dict):
        if value.get(rpc._special_sig_key) == SECRET_SIG:
            return _unwrap(value.get("value"))
        return {k: _unwrap(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_unwrap(v) for v in value]
    return value


@dataclass
class Record:
    urn: str
    type: str
    name: str
    inputs: dict
    secret_inputs: set
    dependencies: list
    property_dependencies: dict
    parent: str
    custom: bool
    protect: bool
    delete_before_replace: bool
    retain_on_delete: bool
    additional_secret_outputs: list
    provider: str

    def input(self, key: str, default=None):
        return self.inputs.get(key, default)


class RecordingMonitor(pmocks.MockMonitor):
    def __init__(self, mocks):
        super().__init__(mocks)
        self.records: list[Record] = []

    def RegisterResource(self, request):
        urn = self.make_urn(request.parent, request.type, request.name)
        if request.type == "pulumi:pulumi:Stack":
            return resource_pb2.RegisterResourceResponse(urn=urn)
        pmocks._ensure_event_loop()
        args = pulumi.runtime.MockResourceArgs(
            typ=request.type, name=request.name, inputs=rpc.deserialize_properties(request.object),
            provider=request.provider, resource_id=request.importId, custom=request.custom or False,
        )
        id_, state = self.mocks.new_resource(args)
        # Like the engine, treat additional_secret_outputs (which the SDKs set from each provider
        # schema's secret fields, e.g. RandomPassword.result) as secret in the returned state.
        secret_outs = set(request.additionalSecretOutputs)
        state = {k: ({rpc._special_sig_key: rpc._special_secret_sig, "value": v} if k in secret_outs else v)
                 for k, v in state.items()}
        obj = pmocks._sync_await(rpc.serialize_properties(state, {}))
        self.resources[urn] = pmocks.MockMonitor.ResourceRegistration(urn, id_, state)
        resp = resource_pb2.RegisterResourceResponse(urn=urn, id=id_, object=obj)
        if request.type != "pulumi:pulumi:Stack":
            pmocks._ensure_event_loop()
            inputs = _unwrap(rpc.deserialize_properties(request.object))
            secret = {k for k, v in request.object.fields.items() if _has_secret(v)}
            self.records.append(
                Record(
                    urn=resp.urn,
                    type=request.type,
                    name=request.name,
                    inputs=inputs,
                    secret_inputs=secret,
                    dependencies=list(request.dependencies),
                    property_dependencies={k: list(v.urns) for k, v in request.propertyDependencies.items()},
                    parent=request.parent,
                    custom=bool(request.custom),
                    protect=bool(request.protect),
                    delete_before_replace=bool(request.deleteBeforeReplace),
                    retain_on_delete=bool(request.retainOnDelete),
                    additional_secret_outputs=list(request.additionalSecretOutputs),
                    provider=request.provider,
                )
            )
        return resp


class Mocks(pulumi.runtime.Mocks):
    """Plausible outputs per resource type; everything else echoes its inputs."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        state = dict(args.inputs)
        t = args.typ
        digest = hashlib.sha256(args.name.encode()).hexdigest()
        if t == "random:index/randomPassword:RandomPassword":
            state["result"] = f"pw-{digest[:24]}"
            state["bcryptHash"] = f"$2a$10${digest[:53]}"
        elif t == "docker:index/remoteImage:RemoteImage":
            state["imageId"] = f"sha256:{digest}"
            state["repoDigest"] = f"{args.inputs['name']}@sha256:{digest}"
        elif t.startswith("tls:"):
            state.setdefault("privateKeyPem", f"-----BEGIN PRIVATE KEY-----{digest}")
            state.setdefault("certPem", f"-----BEGIN CERTIFICATE-----{digest}")
            state.setdefault("certRequestPem", f"-----BEGIN CERTIFICATE REQUEST-----{digest}")
        elif t == "keycloak:index/realm:Realm":
            return args.inputs["realm"], state
        elif t == "pulumi-python:dynamic:Resource" and args.inputs.get("kind") == "realm-certificate":
            state["value"] = REALM_CERT  # what the lookup reads from a fresh realm's keys
        elif t == "pulumi-python:dynamic:Resource" and args.inputs.get("kind") == "client-role-id":
            state["value"] = f"role-{args.inputs['role']}-uuid"
        return f"{args.name}-id", state

    def __init__(self):
        self.invokes: list[str] = []

    def call(self, args: pulumi.runtime.MockCallArgs):
        # The program makes no invokes (they would tie every preview and `up` to live servers):
        # recorded so a test can hold it to that.
        self.invokes.append(args.token)
        return {}


@dataclass
class Evaluation:
    settings: Settings
    platform: Platform
    records: list[Record]
    invokes: list[str] = field(default_factory=list)
    by_urn: dict[str, Record] = field(default_factory=dict)

    def __post_init__(self):
        self.by_urn = {r.urn: r for r in self.records}

    def of_type(self, t: str) -> list[Record]:
        return [r for r in self.records if r.type == t]

    def containers(self) -> list[Record]:
        return self.of_type("docker:index/container:Container")

    def container(self, name: str) -> Record:
        matches = [c for c in self.containers() if c.inputs.get("name") == name]
        assert matches, f"no container named {name}; have {[c.inputs.get('name') for c in self.containers()]}"
        return matches[0]

    def named(self, t: str, name: str) -> Record:
        matches = [r for r in self.of_type(t) if r.name == name]
        assert matches, f"no {t} named {name}"
        return matches[0]

    def children(self, urn: str) -> list[Record]:
        out = []
        for r in self.records:
            if r.parent == urn:
                out.append(r)
                out.extend(self.children(r.urn))
        return out

    def ancestors(self, urn: str) -> set[str]:
        """Every resource `urn` waits for: its dependencies (a component counts with all its
        children), its provider, their dependencies, and so on; plus its parents' dependencies."""
        seen: set[str] = set()
        stack = [urn]
        while stack:
            u = stack.pop()
            rec = self.by_urn.get(u)
            if rec is None:
                continue
            deps = list(rec.dependencies)
            for d in rec.dependencies:
                deps += [c.urn for c in self.children(d)]
            if rec.parent and rec.parent in self.by_urn:
                deps.append(rec.parent)
            if rec.provider:  # "<provider urn>::<id>": a resource waits for its provider
                deps.append(rec.provider.rsplit("::", 1)[0])
            for d in deps:
                if d not in seen:
                    seen.add(d)
                    stack.append(d)
        return seen

    def before(self, a_urn: str, b_urn: str) -> bool:
        """True if resource a must exist before b is created."""
        return a_urn in self.ancestors(b_urn)


def evaluate(stack: str, raw: dict[str, Any], secrets: dict[str, Any] | None = None) -> Evaluation:
    settings = load_settings(stack, raw, secrets)
    mocks = Mocks()
    monitor = RecordingMonitor(mocks)
    pulumi.runtime.set_mocks(mocks, project="itstack", stack=stack, preview=False, monitor=monitor)
    holder: dict = {}

    @pulumi.runtime.test
    def run():
        holder["platform"] = build(settings)
        export_contract(holder["platform"])

    run()
    return Evaluation(settings, holder["platform"], monitor.records, mocks.invokes)


def stack_config(stack: str) -> dict[str, Any]:
    """The `itstack:` values of Pulumi.<stack>.yaml, as the program receives them."""
    from pathlib import Path

    import yaml

    path = Path(__file__).resolve().parent.parent / f"Pulumi.{stack}.yaml"
    data = yaml.safe_load(path.read_text())["config"]
    return {k.split(":", 1)[1]: v for k, v in data.items() if k.startswith("itstack:")}
