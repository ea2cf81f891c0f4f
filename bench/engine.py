"""Real-engine timings (CLI built by scripts/toolchain, local file backend), median of N runs:

- dev preview: `pulumi preview` of the dev stack until the engine stops at the first provider plugin it cannot load
  (program start, settings, registrations up to that point); full dev/prod previews need
  provider plugins that cannot be built here (docs/toolchain.md), so they are not measured;
- reject: the same with one bad setting, until the engine reports the ConfigError;
- dynamic: `pulumi preview` (no changes) and `pulumi up` (no changes) of the MariaDB dynamic
  resource program (tests/engine/mariadb_program) against a MariaDB from the local image.

    .venv/bin/python bench/engine.py [--runs 3]
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests" / "engine"), str(ROOT / "tests")]

import yaml  # noqa: E402
from conftest import Pulumi, program_copy  # noqa: E402
from dockertools import docker, local_image, unique  # noqa: E402


def timed(fn, runs: int) -> tuple[float, float, float]:
    xs = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        xs.append(time.perf_counter() - t)
    return statistics.median(xs), min(xs), max(xs)


def project_copy(tmp: Path, bad: dict | None) -> Path:
    dst = tmp / f"itstack-{unique('p')}"
    shutil.copytree(ROOT, dst, ignore=shutil.ignore_patterns(".venv", ".git", "__pycache__", "tests"))
    (dst / ".venv").symlink_to(ROOT / ".venv")
    if bad:
        cfg = yaml.safe_load((dst / "Pulumi.dev.yaml").read_text())
        cfg["config"].update(bad)
        (dst / "Pulumi.dev.yaml").write_text(yaml.safe_dump(cfg))
    return dst


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    runs = ap.parse_args().runs
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for label, bad in (("dev preview, until the missing docker plugin", None),
                           ("reject bad itstack:domain", {"itstack:domain": "not a domain"})):
            proj = project_copy(tmp, bad)
            state = tmp / unique("state")
            state.mkdir()
            p = Pulumi(proj, state)
            p.run("stack", "init", "dev", "--secrets-provider", "passphrase")
            rows.append((label, *timed(lambda: p.run("preview", "--stack", "dev", check=False), runs)))

        name = unique("itstack-bench-mariadb")
        docker("run", "-d", "--name", name, "-e", "MARIADB_ROOT_PASSWORD=bench-root", "-p", "127.0.0.1::3306",
               local_image("mariadb"))
        try:
            port = docker("port", name, "3306/tcp").stdout.strip().splitlines()[0].rsplit(":", 1)[1]
            for _ in range(120):
                if docker("exec", name, "mariadb", "-uroot", "-pbench-root", "-e", "select 1", check=False).returncode == 0:
                    break
                time.sleep(1)
            state = tmp / unique("state")
            state.mkdir()
            p = Pulumi(program_copy(ROOT / "tests" / "engine" / "mariadb_program", tmp / unique("program")), state)
            p.run("stack", "init", "bench", "--secrets-provider", "passphrase")
            for k, v in (("consumers", '["glpi", "snipeit"]'), ("adminHost", "127.0.0.1"), ("adminPort", port)):
                p.run("config", "set", "--stack", "bench", k, v)
            p.run("config", "set", "--stack", "bench", "--secret", "adminPassword", "bench-root")
            rows.append(("dynamic: first up (2 databases)", *timed(lambda: p.run("up", "--yes", "--stack", "bench"), 1)))
            rows.append(("dynamic: preview, no changes", *timed(
                lambda: p.run("preview", "--expect-no-changes", "--stack", "bench"), runs)))
            rows.append(("dynamic: up, no changes", *timed(lambda: p.run("up", "--yes", "--stack", "bench"), runs)))
            p.run("destroy", "--yes", "--stack", "bench")
        finally:
            docker("rm", "-f", "-v", name, check=False)
    print(f"{'measure':40} {'median s':>9} {'min':>7} {'max':>7}")
    for label, med, lo, hi in rows:
        print(f"{label:40} {med:>9.2f} {lo:>7.2f} {hi:>7.2f}")


if __name__ == "__main__":
    main()
