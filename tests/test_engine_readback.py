"""What a real Docker engine does with the containers we declare, checked over the whole program.

The first real `pulumi up` failed where every mock passed (issue 8): Debian 12's engine (API 1.41)
refused the health check start interval; Docker reads durations back in Go's form ("2m0s" for
"120s") and the memory+swap limit as twice the memory, so every preview showed changes; and a
probe quoted inside `bash -c '…'` ran only its first words. These tests hold every container of
every stack file to the forms the engine reads back and to shell words that parse as meant.
"""
from __future__ import annotations

import shlex
import shutil
import subprocess

import pytest

from components.base import go_duration
from harness import evaluate, stack_config

SHELLS = {"sh", "bash", "/bin/sh", "/bin/bash", "/usr/bin/env"}
OPERATORS = {"&&", "||", "|", ";", "&", ";;", "(", ")", ">", "<", ">>", ">&", "<&", "2>", "|&"}


@pytest.fixture(scope="module", params=["dev", "prod"])
def program(request):
    return evaluate(request.param, stack_config(request.param))


def _containers(program):
    return program.containers()


def test_go_duration_is_what_docker_reads_back():
    assert go_duration("120s") == "2m0s"
    assert go_duration("1800s") == "30m0s"
    assert go_duration("2700s") == "45m0s"
    assert go_duration("30s") == "30s"
    assert go_duration("2m") == "2m0s"
    assert go_duration("3600s") == "1h0m0s"
    assert go_duration("90s") == "1m30s"
    with pytest.raises(ValueError, match="whole seconds"):
        go_duration("1.5s")


def test_every_health_check_duration_is_in_the_engines_own_form(program):
    for c in _containers(program):
        hc = c.inputs.get("healthcheck")
        if not hc:
            continue
        for key in ("interval", "timeout", "startPeriod"):
            assert hc[key] == go_duration(hc[key]), f"{c.inputs['name']}: healthcheck.{key} {hc[key]!r} drifts"


def test_swap_limit_is_declared_so_the_engine_reads_back_what_we_wrote(program):
    for c in _containers(program):
        if c.inputs.get("memory"):
            assert c.inputs.get("memorySwap") == c.inputs["memory"], c.inputs["name"]


def test_no_start_interval_for_an_engine_that_refuses_it(program):
    # Both committed stacks target engines of unknown age: API 1.41 (Docker 20.10) is assumed.
    for c in _containers(program):
        hc = c.inputs.get("healthcheck") or {}
        assert "startInterval" not in hc, f"{c.inputs['name']}: start_interval needs Docker API 1.44"


def test_start_interval_only_where_the_host_declares_a_new_engine():
    raw = stack_config("dev")
    raw["hosts"] = [{**raw["hosts"][0], "dockerApiVersion": "1.44"}]
    ev = evaluate("dev", raw)
    checks = [c.inputs["healthcheck"] for c in ev.containers() if c.inputs.get("healthcheck")]
    assert checks and all(hc.get("startInterval") == "2s" for hc in checks)


# --- shell words -------------------------------------------------------------------------------

def _tokens(script: str) -> list[str]:
    lexer = shlex.shlex(script, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    return list(lexer)


def _nested_scripts(argv: list[str], where: str) -> list[tuple[str, str]]:
    """(where, script) for every `sh|bash -c SCRIPT` in an argument vector, checking that the script
    is one word: what follows it may only be an operator or the end, never the script's own tail
    split off by quotes it carries (the Keycloak probe bug)."""
    found = []
    for i, word in enumerate(argv[:-2]):
        if word.rsplit("/", 1)[-1] in ("sh", "bash") and argv[i + 1] == "-c":
            script = argv[i + 2]
            rest = argv[i + 3:]
            assert not rest or rest[0] in OPERATORS, (
                f"{where}: `{word} -c` got its script split into several words: {argv[i + 2:i + 6]} — "
                "a quote inside the script ends the outer quoting; use the exec form or other quotes")
            found.append((where, script))
    return found


def _scripts_of(c) -> list[tuple[str, str]]:
    """Every shell script a container hands to a shell: CMD-SHELL health checks (run as
    /bin/sh -c), exec-form checks that call a shell, and entrypoint + command."""
    name = c.inputs["name"]
    out = []
    tests = (c.inputs.get("healthcheck") or {}).get("tests") or []
    if tests and tests[0] == "CMD-SHELL":
        out.append((f"{name} healthcheck", tests[1]))
        out += _nested_scripts(_tokens(tests[1]), f"{name} healthcheck")
    elif tests and tests[0] == "CMD":
        out += _nested_scripts(tests[1:], f"{name} healthcheck")
    argv = list(c.inputs.get("entrypoints") or []) + list(c.inputs.get("commands") or c.inputs.get("command") or [])
    out += _nested_scripts(argv, f"{name} entrypoint+command")
    return out


def test_every_shell_script_is_one_word_and_parses(program):
    scripts = [s for c in _containers(program) for s in _scripts_of(c)]
    assert any("keycloak healthcheck" in where for where, _ in scripts)
    sh = shutil.which("bash")
    for where, script in scripts:
        # Nested scripts inside a CMD-SHELL string are split as /bin/sh would split them.
        for token_where, inner in _nested_scripts(_tokens(script), where):
            scripts.append((token_where + " (nested)", inner))
        proc = subprocess.run([sh, "-n", "-c", script], capture_output=True, text=True)
        assert proc.returncode == 0, f"{where}: bash -n says {proc.stderr.strip()}\n{script}"


def test_the_old_keycloak_probe_would_have_failed_this_check():
    """The check above catches the bug issue 8 found: a probe with quotes inside `bash -c '…'`."""
    from components.identity.keycloak import _READY_PROBE

    with pytest.raises(AssertionError, match="split into several words"):
        _nested_scripts(_tokens(f"bash -c '{_READY_PROBE}'"), "keycloak (old form)")


def _provider_cpus(declared: str) -> str:
    """What the docker provider writes to state after a read: NanoCPUs as a decimal string with
    trailing zeros cut, or one decimal when nine zeros remain (its nanoInt64ToDecimalString)."""
    from fractions import Fraction

    nano = int(Fraction(declared) * 10**9)
    text = f"{nano // 10**9}.{nano % 10**9:09d}"
    return f"{nano // 10**9}.{(nano % 10**9) // 10**8}" if text.count("0") == 9 else text.rstrip("0")


def test_cpus_are_written_as_the_provider_reads_them_back(program):
    # cpus forces a replacement when it differs: a refresh must read back the same string.
    for c in _containers(program):
        if c.inputs.get("cpus"):
            assert c.inputs["cpus"] == _provider_cpus(c.inputs["cpus"]), c.inputs["name"]


def test_capabilities_carry_the_cap_prefix_docker_stores(program):
    # Docker 20.10 stores --cap-add NET_ADMIN as CAP_NET_ADMIN (seen on the engine .ci/run installs).
    for c in _containers(program):
        for cap in (c.inputs.get("capabilities") or {}).get("adds", []):
            assert cap.startswith("CAP_"), (c.inputs["name"], cap)


def test_every_named_container_is_deleted_before_its_replacement(program):
    """Container names are fixed, so Pulumi's default replace (create the new one, then delete the
    old) fails on a real engine: "the container name … is already in use". Jobs included."""
    late = [c.inputs["name"] for c in _containers(program) if not c.delete_before_replace]
    assert late == []


def test_the_program_makes_no_invokes(program):
    """Invokes run on every preview and `up`: a preview would need a live Keycloak reachable from
    the reviewer's runner, and an `up` could not start while Keycloak recovers from an outage (seen
    in the e2e lane after PostgreSQL crashed). Facts are read into the state by resources instead."""
    assert program.invokes == []
    lookups = [r for r in program.records if r.type == "pulumi-python:dynamic:Resource" and "kind" in r.inputs]
    assert {r.inputs["kind"] for r in lookups} >= {"client-role-id"}
