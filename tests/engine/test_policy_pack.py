"""The policy pack (policy/) under the real engine: `pulumi preview --policy-pack policy`, run by
the CLI through our language host's RunPlugin (toolchain/pulumi-language-python) in the pack's
own virtualenv (policy/.venv, scripts/test-deps). Preview only, nothing is deployed.

The tiers program (the program's own identity and data containers, stack as the deploy lane sets
it up) passes with no violation; a deliberately bad program (policy_bad_program, stack prod) is
stopped, each rule a preview can see naming its resource. The wildcard-redirect rule needs the
keycloak plugin (not buildable here): tests/test_policy.py covers it under mocks."""
from __future__ import annotations

import re

import pytest

from conftest import ROOT, Pulumi, program_copy
from tiers import program_stack

POLICY = ROOT / "policy"
BAD = ROOT / "tests" / "engine" / "policy_bad_program"
SEEN_IN_PREVIEW = {
    "no-plain-secret": "plain-secret",
    "prod-images-pinned": "unpinned-image",
    "long-running-containers": "no-limits",
    "privileged-only-freeipa": "privileged",
    "tls-on-every-route": "plain-route",
    "prod-data-protected": "unprotected-data",
}


def _preview(pulumi: Pulumi, stack: str):
    assert (POLICY / ".venv" / "bin" / "python").exists(), "no policy/.venv: scripts/test-deps creates it"
    return pulumi.run("preview", "--stack", stack, "--policy-pack", str(POLICY), check=False)


def test_our_tiers_program_has_no_violation(tmp_path):
    pulumi, _ = program_stack(tmp_path, "containers")
    out = _preview(pulumi, "containers")
    text = out.stdout + out.stderr
    assert out.returncode == 0, text
    # The pack really ran (not silently skipped): the CLI names it in the preview.
    assert re.search(r"Policies:\s*\n\s*✅ itstack@v[\d.]+ \(local: [^)]*policy\)", text), text
    assert "[mandatory]" not in text, text


@pytest.fixture(scope="module")
def bad(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("policy-bad")
    project = program_copy(BAD, tmp / "bad")
    state = tmp / "state"
    state.mkdir()
    pulumi = Pulumi(project, state)
    pulumi.run("stack", "init", "prod", "--secrets-provider", "passphrase")
    pulumi.run("config", "set", "--stack", "prod", "--secret", "dbPassword", "bad-program-pw-2026")
    out = _preview(pulumi, "prod")
    return out.returncode, out.stdout + out.stderr


def test_a_bad_program_is_stopped(bad):
    code, text = bad
    assert code != 0, text


@pytest.mark.parametrize("rule", list(SEEN_IN_PREVIEW))
def test_each_rule_names_the_resource_that_breaks_it(bad, rule):
    _, text = bad
    resource = SEEN_IN_PREVIEW[rule]
    # The CLI prints "[mandatory]  <rule>  (<urn or resource>)"
    blocks = re.split(r"\n(?=\s*\[mandatory\])", text)
    hits = [b for b in blocks if re.search(rf"\[mandatory\]\s+{re.escape(rule)}\b", b)]
    assert hits, f"{rule} not reported:\n{text}"
    assert any(resource in b for b in hits), f"{rule} does not name {resource}:\n{hits}"


def test_a_secret_kept_secret_is_not_flagged(bad):
    """The control in the bad program: the same credential in an env the engine holds as a secret."""
    _, text = bad
    assert "secret-env-ok" not in text.split("Policies:", 1)[-1], text


def test_the_violation_does_not_show_the_secret(bad):
    _, text = bad
    assert "bad-program-pw-2026" not in text
