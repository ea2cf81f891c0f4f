"""The program's containers against what their pinned images expect (tests/image_contracts.py):
env names the image reads and values it accepts, uploads the image's user can read and run, health
checks that call only what the image has, ports it listens on, volumes where it keeps state, and
shell commands whose quoting survives the outer shell."""
from __future__ import annotations

import hashlib
import re
import shlex
from pathlib import Path

import pytest

import image_contracts as ic
from harness import evaluate, stack_config

DOCS = Path(__file__).resolve().parent.parent / "docs" / "services"


@pytest.fixture(scope="module", params=["dev", "prod"])
def ev(request):
    return evaluate(request.param, stack_config(request.param))


@pytest.fixture(scope="module")
def prod():
    return evaluate("prod", stack_config("prod"))


def labels(c) -> dict:
    return {lab["label"]: lab["value"] for lab in c.inputs.get("labels") or []}


def app_containers(ev):
    """(service, role, record, contract) of every container and job of the applications."""
    out = []
    for c in ev.containers():
        lab = labels(c)
        service, role = lab.get("org.itstack.service"), lab.get("org.itstack.role")
        if service in ic.NOT_COVERED:
            continue
        out.append((service, role, c, ic.contract_for(service, role)))
    return out


def env_of(c) -> dict:
    return dict(e.split("=", 1) for e in c.inputs.get("envs") or [])


def our_texts(c) -> str:
    """What our own code in the container reads: command, entrypoint, uploads, health check."""
    parts = list(c.inputs.get("command") or []) + list(c.inputs.get("entrypoints") or [])
    parts += [u.get("content") or "" for u in c.inputs.get("uploads") or []]
    parts += list((c.inputs.get("healthcheck") or {}).get("tests") or [])
    return "\n".join(parts)


def mode(upload) -> int:
    """The file mode the docker provider writes: `permissions`, else 0744 for executable, else 0644."""
    if upload.get("permissions"):
        return int(upload["permissions"], 8)
    return 0o744 if upload.get("executable") else 0o644


def allows(user: str, m: int, execute: bool) -> bool:
    """Uploads are root-owned: root reads anything and runs what has any x bit; others use 'other'."""
    if user in ("root", "0"):
        return not execute or bool(m & 0o111)
    need = 0o004 | (0o001 if execute else 0)
    return m & need == need


def test_every_application_container_has_a_contract_for_its_pinned_image(ev):
    refs = {f"sha256:{hashlib.sha256(r.name.encode()).hexdigest()}": r.inputs["name"]
            for r in ev.of_type("docker:index/remoteImage:RemoteImage")}
    missing, stale = [], []
    for service, role, c, contract in app_containers(ev):
        if contract is None:
            missing.append(f"{service}/{role}")
            continue
        ref = refs[c.inputs["image"]].split("@", 1)[0]
        if ref != contract.image:
            stale.append(f"{service}/{role} runs {ref}, contract read for {contract.image}")
    assert not missing, f"containers without an image contract: {missing}"
    assert not stale, f"image changed since its contract was read (read it again at the new tag): {stale}"


def test_env_names_are_ones_the_image_or_our_own_scripts_read(ev):
    problems = []
    containers = app_containers(ev)
    # Files we upload into one container may be read in another through a shared volume (Nextcloud's
    # config file in /var/www/html is read by the cron container too).
    by_service: dict[str, str] = {}
    for service, _, c, _ in containers:
        by_service[service] = by_service.get(service, "") + "\n" + our_texts(c)
    for service, role, c, contract in containers:
        texts = our_texts(c) + by_service[service] if c.inputs.get("volumes") else our_texts(c)
        for name in env_of(c):
            where = f"{service}/{role}: {name}"
            if name in contract.env_ignored:
                problems.append(f"{where} does nothing: {contract.env_ignored[name]}")
            elif name in contract.env or name.startswith(contract.env_prefixes or ("\0",)):
                continue
            elif name.startswith("ITSTACK_"):
                if not re.search(rf"\b{name}\b", texts):
                    problems.append(f"{where} is ours but none of our files in the container reads it")
            elif not re.search(rf"\$\{{?{name}\b", texts):
                problems.append(f"{where} is not read by {contract.image} ({contract.read_at})")
    assert not problems, "\n".join(problems)


def test_env_values_are_ones_the_image_accepts(ev):
    problems = []
    for service, role, c, contract in app_containers(ev):
        env = env_of(c)
        for name, pattern in contract.env_values.items():
            if name in env and not re.search(pattern, env[name]):
                problems.append(f"{service}/{role}: {name}={env[name]!r} does not match {pattern}")
        if role in ("main", "web") or not (c.inputs.get("entrypoints") or c.inputs.get("attach")):
            for name, pattern in contract.required.items():
                if not re.search(pattern, env.get(name, "")):
                    problems.append(f"{service}/{role}: needs {name} matching {pattern}, has {env.get(name)!r}")
    assert not problems, "\n".join(problems)


def test_uploads_are_readable_and_runnable_by_the_user_that_uses_them(ev):
    problems = []
    for service, role, c, contract in app_containers(ev):
        default_user = c.inputs.get("user") or contract.user
        for u in c.inputs.get("uploads") or []:
            path, m = u["file"], mode(u)
            runner = next((user for prefix, user in contract.executes.items() if path.startswith(prefix)), None)
            if runner is not None and not allows(runner, m, execute=True):
                problems.append(f"{service}/{role}: {path} mode {m:04o} cannot be run by {runner}")
            if not allows(default_user, m, execute=False):
                problems.append(f"{service}/{role}: {path} mode {m:04o} cannot be read by {default_user}")
    assert not problems, "\n".join(problems)


def test_nextcloud_hook_runs_as_www_data():
    """The entrypoint runs before-starting hooks as www-data: a root-owned 0744 file fails there."""
    assert ic.NEXTCLOUD.executes["/docker-entrypoint-hooks.d/before-starting/"] == "www-data"
    assert not allows("www-data", 0o744, execute=True)
    assert allows("www-data", 0o755, execute=True)
    assert allows("root", 0o744, execute=True) and not allows("root", 0o644, execute=True)


_OPERATORS = {"|", "||", "&&", ";", "&", "(", ")", ";;", "|&"}


_REDIRECTS = {">", "<", ">>", "<>", ">&", "<&", "&>", ">|", "<<", "<<<"}


def _tokens(script: str) -> list[str]:
    # Command substitutions and arithmetic only feed words here: keep a placeholder word.
    previous = None
    while previous != script:
        previous = script
        script = re.sub(r"\$\(\([^()]*\)\)|\$\([^()]*\)", "$X", script)
    lexer = shlex.shlex(script, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    lexer.commenters = ""
    return list(lexer)


def _commands(script: str) -> list[tuple[str, list[str]]]:
    """(command word, its arguments) of every simple command in a shell string."""
    out, current = [], []
    skip = False
    for tok in _tokens(script) + [";"]:
        if skip:
            skip = False
            continue
        if tok in _REDIRECTS:
            if current and current[-1].isdigit():
                current.pop()  # the file descriptor of `3<>...`
            skip = True  # the redirection's target
            continue
        if tok in _OPERATORS:
            if current:
                out.append(current)
                current = []
            continue
        current.append(tok)
    commands = []
    for words in out:
        words = [w for w in words if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", w)] or words
        while words and words[0] in ("exec", "!", "{", "}"):
            words = words[1:]
        if words and words[0] == "timeout":
            words = [w for w in words[1:] if not re.fullmatch(r"[\d.]+[smh]?", w)]
        if words:
            commands.append((words[0], words[1:]))
    return commands


def _shell_scripts(c) -> list[str]:
    """Every string the container hands to a shell: health checks and `sh -c`/`bash -c` commands."""
    scripts = []
    tests = (c.inputs.get("healthcheck") or {}).get("tests") or []
    if tests[:1] == ["CMD-SHELL"]:
        scripts += tests[1:]
    elif tests[:1] == ["CMD"] and len(tests) >= 4 and tests[2] == "-c":
        scripts.append(tests[3])
    argv = list(c.inputs.get("entrypoints") or []) + list(c.inputs.get("command") or [])
    for i, word in enumerate(argv[:-1]):
        if word == "-c" and i > 0 and Path(argv[i - 1]).name in ("sh", "bash"):
            scripts.append(argv[i + 1])
    return scripts


def _nested_shell_problems(script: str) -> list[str]:
    """A nested `bash -c '...'` must hand the whole inner script to -c: if a quote inside closed the
    outer quoting, words spill over as extra arguments and the script runs cut short."""
    problems = []
    for cmd, args in _commands(script):
        if Path(cmd).name in ("sh", "bash") and "-c" in args:
            rest = args[args.index("-c") + 1:]
            if len(rest) != 1:
                problems.append(f"{cmd} -c gets {len(rest)} words instead of one script: {rest}")
            else:
                problems += _nested_shell_problems(rest[0])
    return problems


def test_nested_shell_commands_keep_their_script_whole(ev):
    problems = []
    for c in ev.containers():
        for script in _shell_scripts(c):
            problems += [f"{c.inputs['name']}: {p}" for p in _nested_shell_problems(script)]
    assert not problems, "\n".join(problems)


def test_quoting_check_catches_a_script_split_by_its_own_quotes():
    broken = "timeout 4 bash -c 'printf 'GET / HTTP/1.0' >&3' | grep -q 200"
    assert _nested_shell_problems(broken)
    assert not _nested_shell_problems("timeout 4 bash -c 'exec 3<>/dev/tcp/127.0.0.1/587; head -c 3 <&3' | grep -q 220")
    assert not _nested_shell_problems("bash -c \"exec 3<>/dev/tcp/h/1 && printf 'x' >&3\"")


def test_health_checks_call_only_what_the_image_has(ev):
    problems = []
    for service, role, c, contract in app_containers(ev):
        if not c.inputs.get("healthcheck"):
            continue
        have = ic.BASE_TOOLS | ic.SHELL_WORDS | contract.binaries
        pending = list(_shell_scripts(c)[:1]) if c.inputs["healthcheck"]["tests"][0] == "CMD-SHELL" else []
        tests = c.inputs["healthcheck"]["tests"]
        if tests[0] == "CMD":
            pending = [shlex.join(tests[1:])]
        while pending:
            for cmd, args in _commands(pending.pop()):
                if cmd.startswith("$"):
                    continue
                if Path(cmd).name not in have:
                    problems.append(f"{service}/{role}: health check calls {cmd!r}, not in {contract.image}")
                if Path(cmd).name in ("sh", "bash") and "-c" in args and args.index("-c") + 1 < len(args):
                    pending.append(args[args.index("-c") + 1])
    assert not problems, "\n".join(problems)


def test_published_ports_are_ones_the_image_listens_on(prod):
    """prod publishes every endpoint (several hosts), so every container port shows up."""
    problems = []
    for service, role, c, contract in app_containers(prod):
        env = env_of(c)
        for p in c.inputs.get("ports") or []:
            port, proto = int(p["internal"]), p.get("protocol", "tcp")
            if (port, proto) in contract.ports:
                continue
            rng = contract.env_port_range
            if rng and proto == rng[2] and int(env[rng[0]]) <= port <= int(env[rng[1]]):
                continue
            problems.append(f"{service}/{role}: {port}/{proto} is not a port of {contract.image}")
    assert not problems, "\n".join(problems)


def test_freepbx_rtp_range_is_applied_and_checked(ev):
    """The image writes RTP_START/RTP_FINISH into sipsettings after its last reload: our cont-init
    script reloads after `fwconsole start`, and the health check requires the published range."""
    from components.communications import freepbx

    pbx = [c for s, r, c, _ in app_containers(ev) if (s, r) == ("freepbx", "main")][0]
    env = env_of(pbx)
    uploads = {u["file"]: u for u in pbx.inputs["uploads"]}
    script = uploads[freepbx.RTP_APPLY]
    assert freepbx.RTP_APPLY.startswith("/etc/cont-init.d/1") and freepbx.RTP_APPLY > "/etc/cont-init.d/10-freepbx"
    assert "fwconsole reload" in script["content"] and allows("root", mode(script), execute=True)
    check = " ".join(pbx.inputs["healthcheck"]["tests"])
    assert f"Port start: +{env['RTP_START']}" in check and f"Port end: +{env['RTP_FINISH']}" in check


def test_state_lives_in_volumes_where_the_image_keeps_it(ev):
    problems = []
    mounted: dict[str, set] = {}
    for service, role, c, contract in app_containers(ev):
        for v in c.inputs.get("volumes") or []:
            path = v.get("containerPath")
            if v.get("readOnly"):
                continue
            mounted.setdefault(contract.image, set()).add(path)
            # One-shot jobs may fill a volume of their own (OpenKM's driver download).
            if path not in contract.state and not c.inputs.get("attach"):
                problems.append(f"{service}/{role}: volume at {path}, where {contract.image} keeps no state")
    assert not problems, "\n".join(problems)


def test_no_state_of_the_images_is_left_in_a_container_layer(prod):
    """prod (ACME certificates, every service) must keep every stateful path on a volume."""
    problems = []
    mounted: dict[str, set] = {}
    for _, _, c, contract in app_containers(prod):
        for v in c.inputs.get("volumes") or []:
            if not v.get("readOnly"):
                mounted.setdefault(contract.image, set()).add(v.get("containerPath"))
    for contract in {id(c): c for _, _, _, c in app_containers(prod)}.values():
        lost = contract.state - mounted.get(contract.image, set())
        if lost:
            problems.append(f"{contract.image}: state at {sorted(lost)} is not on a volume (lost on replacement)")
    assert not problems, "\n".join(problems)


def test_docs_say_at_which_tag_each_contract_was_read():
    text = "\n".join(p.read_text() for p in DOCS.glob("*.md"))
    missing = [c.image for c in {id(c): c for c in ic.CONTRACTS.values()}.values()
               if not any(c.image in line and "read at" in line.lower() for line in text.splitlines())]
    assert not missing, f"docs/services/*.md name no 'read at' line for: {missing}"


def test_command_parsing_finds_every_called_binary():
    cmds = _commands("curl -fsS http://x/ | grep -q ok && timeout 4 bash -c 'exec 3<>/dev/tcp/h/1' "
                     "&& test $(( $(date +%s) - 1 )) -lt 5 && FOO=1 exec python3 -c 'print(1)' >/dev/null 2>&1")
    assert [c for c, _ in cmds] == ["curl", "grep", "bash", "test", "python3"]
    assert ic.OPENKM.binaries.isdisjoint({"curl", "wget"})  # the OpenKM image has neither
