"""The policy pack's rules (policy/itstack_rules.py) over the mocked graph of the whole program.

The rules are plain functions, so the unit lane runs them here from the project's .venv; the pack
(policy/__main__.py) runs the same functions under the real engine in the engine lane
(tests/engine/test_policy_pack.py). Every rule passes for dev and for prod with its images pinned,
and each is caught on a deliberately bad copy of the same graph (one change per case).
"""
from __future__ import annotations

import copy
import hashlib
import json
import sys
from pathlib import Path

import pytest

from harness import evaluate, stack_config

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "policy"))
import itstack_rules as R  # noqa: E402

RULE_NAMES = [r.name for r in R.RULES]


def _resources(evaluation) -> list[R.Resource]:
    """The recorded registrations as the pack sees them: inputs the engine holds as secrets wrapped."""
    return [R.Resource(r.type, r.name, r.urn, {k: (R.Secret(v) if k in r.secret_inputs else v)
                                               for k, v in r.inputs.items()}, r.protect)
            for r in evaluation.records]


def _pinned(raw: dict, evaluation) -> dict:
    """prod's stack file with every image pinned (a digest per reference, as a site pins them) and
    requireImageDigests on: what the committed file's comment asks a site to do."""
    images = {svc: {role: ref.ref if ref.digest else f"{ref.ref}@sha256:{hashlib.sha256(ref.ref.encode()).hexdigest()}"
                    for role, ref in roles.items()}
              for svc, roles in evaluation.settings.images.items()}
    return {**raw, "images": images, "requireImageDigests": True}


@pytest.fixture(scope="module")
def graphs():
    dev = evaluate("dev", stack_config("dev"))
    prod = evaluate("prod", stack_config("prod"))
    prod_pinned = evaluate("prod", _pinned(stack_config("prod"), prod))
    return {"dev": (dev, R.Context("dev", prod=False)), "prod": (prod, R.Context("prod", prod=True)),
            "prod-pinned": (prod_pinned, R.Context("prod", prod=True))}


def _check(graphs, which, mutate=None) -> list[R.Violation]:
    evaluation, ctx = graphs[which]
    resources = copy.deepcopy(_resources(evaluation))
    if mutate:
        mutate(resources)
    return R.check(resources, ctx)


@pytest.mark.parametrize("stack", ["dev", "prod-pinned"])
@pytest.mark.parametrize("rule", RULE_NAMES)
def test_every_rule_passes_for_our_stacks(graphs, stack, rule):
    found = [v.message for v in _check(graphs, stack) if v.rule == rule]
    assert found == []


def test_committed_prod_is_flagged_exactly_for_the_images_the_program_reports_unpinned(graphs):
    """Pulumi.prod.yaml has requireImageDigests false until a site pins its images; the rule then
    names exactly the references the program itself lists as unpinned (stack output unpinned_images)."""
    evaluation, _ = graphs["prod"]
    unpinned = {ref.ref for roles in evaluation.settings.images.values() for ref in roles.values() if not ref.digest}
    flagged = {v.message.split()[1] for v in _check(graphs, "prod") if v.rule == "prod-images-pinned"}
    assert unpinned and flagged == unpinned


def _container(resources, suffix) -> R.Resource:
    return next(r for r in resources if r.type == R.CONTAINER and r.props["name"].endswith(suffix))


def _unsecret(r: R.Resource, key: str) -> None:
    r.props[key] = R.reveal(r.props[key])


def _traefik_without_tls(resources):
    traefik = _container(resources, "-traefik")
    uploads = R.reveal(traefik.props["uploads"])
    for up in uploads:
        if up["file"].endswith("dynamic.yml"):
            cfg = json.loads(up["content"])
            router = next(iter(cfg["http"]["routers"].values()))
            del router["tls"]
            up["content"] = json.dumps(cfg)
    traefik.props["uploads"] = R.Secret(uploads)


def _label(resources, label, value):
    c = _container(resources, "-keycloak")
    c.props["labels"] = list(c.props.get("labels") or []) + [{"label": label, "value": value}]


BAD = {
    # A generated secret (Keycloak's database password, the PostgreSQL role's secret input) in an
    # env list the engine would store in plain text.
    "plain env": ("dev", "no-plain-secret", lambda rs: _unsecret(_container(rs, "-keycloak"), "envs")),
    "credential label": ("dev", "no-plain-secret", lambda rs: _label(rs, "backup.db-password", "hunter2-literal")),
    "credential in command": ("dev", "no-plain-secret",
                              lambda rs: _container(rs, "-redis").props.update(command=["redis-server", "--requirepass",
                                                                                        "x", "--password=hunter2x"])),
    "unpinned image": ("prod-pinned", "prod-images-pinned",
                       lambda rs: next(r for r in rs if r.type == R.IMAGE).props.update(name="postgres:16")),
    "no health check": ("dev", "long-running-containers",
                        lambda rs: _container(rs, "-postgresql").props.pop("healthcheck")),
    "no memory limit": ("dev", "long-running-containers",
                        lambda rs: _container(rs, "-postgresql").props.pop("memory")),
    "no restart policy": ("dev", "long-running-containers",
                          lambda rs: _container(rs, "-postgresql").props.update(restart="no")),
    "privileged app": ("dev", "privileged-only-freeipa",
                       lambda rs: _container(rs, "-keycloak").props.update(privileged=True)),
    "route without TLS": ("dev", "tls-on-every-route", _traefik_without_tls),
    "label route without TLS": ("dev", "tls-on-every-route",
                                lambda rs: _label(rs, "traefik.http.routers.kc.rule", "Host(`sso.it-stack.lab`)")),
    "wildcard redirect": ("dev", "no-wildcard-redirects",
                          lambda rs: next(r for r in rs if r.type == R.OIDC_CLIENT)
                          .props["validRedirectUris"].append("https://cloud.it-stack.lab/*")),
    "unprotected volume": ("prod-pinned", "prod-data-protected",
                           lambda rs: setattr(next(r for r in rs if r.type == R.VOLUME), "protect", False)),
    "unprotected database": ("prod-pinned", "prod-data-protected",
                             lambda rs: setattr(next(r for r in rs if r.type == R.PG_DATABASE), "protect", False)),
}


@pytest.mark.parametrize("case", list(BAD))
def test_each_rule_catches_a_bad_input(graphs, case):
    stack, rule, mutate = BAD[case]
    before = {(v.rule, v.urn) for v in _check(graphs, stack)}
    after = _check(graphs, stack, mutate)
    new = [v for v in after if (v.rule, v.urn) not in before]
    assert new and {v.rule for v in new} == {rule}, [(v.rule, v.message) for v in new]


def test_every_rule_has_a_bad_input():
    assert {rule for _, rule, _ in BAD.values()} == set(RULE_NAMES)


def test_no_violation_message_shows_a_secret(graphs):
    """The plain-env case reveals Keycloak's env to the rule; its messages name the variable only."""
    evaluation, _ = graphs["dev"]
    secrets = {s for r in _resources(evaluation) for s in R.credentials(r)}
    messages = [v.message for case in ("plain env", "credential in command", "credential label", "route without TLS")
                for v in _check(graphs, BAD[case][0], BAD[case][2])]
    assert messages and not [m for m in messages for s in secrets | {"hunter2x", "hunter2-literal"} if s in m]


def test_unknown_values_of_a_preview_are_not_judged():
    """In a preview, values computed at `up` are unknown: no rule may flag or crash on them."""
    c = R.Resource(R.CONTAINER, "c", "urn:c", {"name": "itstack-dev-x", "envs": [R.UNKNOWN], "image": R.UNKNOWN,
                                              "healthcheck": {"tests": ["CMD", "true"]}, "memory": R.UNKNOWN,
                                              "restart": "unless-stopped", "uploads": R.UNKNOWN})
    img = R.Resource(R.IMAGE, "i", "urn:i", {"name": R.UNKNOWN})
    assert R.check([c, img], R.Context("prod", prod=True)) == []


def test_wire_secrets_are_recognised():
    """What the engine sends the pack: secrets in Pulumi's signature form."""
    wire = {"envs": {R.SIG_KEY: R.SECRET_SIG, "value": ["A=1"]}, "name": "x"}
    props = R.from_wire(wire)
    assert isinstance(props["envs"], R.Secret) and props["name"] == "x" and R.reveal(props)["envs"] == ["A=1"]
