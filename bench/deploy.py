"""Deploy time against the critical path, from the engine's own event log.

One run, on the local engine, of tests/engine/tiers_program (the identity and data tiers, built by
the program's composition root and components; beside a 389-ds the bench starts):

- graph: `pulumi up --event-log` from nothing. Each resource's own time is its step's start
  (resourcePreEvent) to its end (resOutputsEvent); the critical path is the longest chain of
  those times through the dependencies the engine recorded (dependencies, parent, provider).
  Reported: up wall time, critical path, and their ratio (goal <= 1.2: the engine adds little
  beyond the waits it cannot avoid).
- no-change: `pulumi up` again (goal <= 15 s).
- phased: destroy, then the same resources tier after tier as IT-Stack's scripts deploy them
  (seed phase 1a data: PostgreSQL, MariaDB, Redis; then 1b identity: Keycloak), one `up` per
  phase. Reported: phased wall / graph wall (goal >= 1.5).

    .venv/bin/python bench/deploy.py [--lane containers|e2e]

`containers` (default) replaces the two plugin-backed admin parts like the engine lane does;
`e2e` needs the keycloak and postgresql plugins installed. Engine timestamps are whole seconds,
so each step's time is +-1 s. Figures only: nothing here passes or fails on a time.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests" / "engine"), str(ROOT / "tests")]

from dockertools import local_image  # noqa: E402
from tiers import IMAGES, program_stack, start_directory, stop_directory  # noqa: E402

DATA_TIER = ["postgresql", "mariadb", "redis"]
ALL = ["freeipa", "keycloak", *DATA_TIER]


def step_times(event_log: Path) -> dict[str, float]:
    """urn -> seconds from its step's start to its outputs, for every resource the engine touched."""
    start, end = {}, {}
    for line in event_log.read_text().splitlines():
        ev = json.loads(line)
        if "resourcePreEvent" in ev:
            start[ev["resourcePreEvent"]["metadata"]["urn"]] = ev["timestamp"]
        elif "resOutputsEvent" in ev:
            end[ev["resOutputsEvent"]["metadata"]["urn"]] = ev["timestamp"]
    return {urn: end[urn] - start[urn] for urn in start if urn in end}


def critical_path(times: dict[str, float], resources: list[dict]) -> tuple[float, list[str]]:
    """Longest chain of step times through what each resource waits for: its dependencies (a
    component stands for everything under it) and its provider. Only custom resources take time of
    their own; the stack's and a component's events span their children, so they count zero."""
    custom = {r["urn"] for r in resources if r.get("custom")}
    children: dict[str, list[str]] = {}
    for r in resources:
        if r.get("parent"):
            children.setdefault(r["parent"], []).append(r["urn"])

    def expand(urn: str) -> set[str]:
        if urn in custom:
            return {urn}
        return {d for c in children.get(urn, []) for d in expand(c)}

    waits = {}
    for r in resources:
        deps = {d for dep in r.get("dependencies") or [] for d in expand(dep)}
        if r.get("provider"):
            deps.add(r["provider"].rsplit("::", 1)[0])
        waits[r["urn"]] = deps

    @lru_cache(maxsize=None)
    def longest(urn: str) -> tuple[float, tuple[str, ...]]:
        best: tuple[float, tuple[str, ...]] = (0.0, ())
        for dep in waits.get(urn, ()):
            cand = longest(dep)
            if cand[0] > best[0]:
                best = cand
        own = times.get(urn, 0.0) if urn in custom else 0.0
        return best[0] + own, best[1] + (urn,)

    total, chain = max((longest(u) for u in custom), key=lambda t: t[0])
    return total, [u.rsplit("::", 1)[-1] for u in chain if times.get(u, 0) > 0]


def timed_up(pulumi, stack: str, *extra: str) -> float:
    t = time.perf_counter()
    pulumi.run("up", "--yes", "--stack", stack, "--skip-preview", *extra)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--lane", choices=["containers", "e2e"], default="containers")
    lane = ap.parse_args().lane
    with tempfile.TemporaryDirectory() as tmp:
        start_directory()
        pulumi, _ = program_stack(Path(tmp), lane)
        pulumi.env["PULUMI_DEBUG_COMMANDS"] = "true"  # what makes `up` accept --event-log
        try:
            log = Path(tmp) / "events.jsonl"
            graph = timed_up(pulumi, lane, "--event-log", str(log))
            resources = pulumi.export(lane)["deployment"]["resources"]
            path, chain = critical_path(step_times(log), resources)
            no_change = timed_up(pulumi, lane)
            pulumi.run("destroy", "--yes", "--stack", lane, "--skip-preview")

            phases = []
            images = {svc: local_image(name) for svc, name in IMAGES.items()}
            for services in (DATA_TIER, ALL):
                pulumi.run("config", "set", "--stack", lane, "--path", "itstack:services", json.dumps(services))
                pulumi.run("config", "set", "--stack", lane, "--path", "itstack:images",
                           json.dumps({s: ref for s, ref in images.items() if s in services}))
                phases.append(timed_up(pulumi, lane))
            phased = sum(phases)
        finally:
            pulumi.run("destroy", "--yes", "--stack", lane, "--skip-preview", check=False)
            stop_directory()

    print(f"lane {lane}: {len(resources)} resources")
    print(f"graph up (from nothing)     {graph:7.1f} s")
    print(f"critical path (event log)   {path:7.1f} s   {' -> '.join(chain)}")
    print(f"up / critical path          {graph / path:7.2f}     (goal <= 1.2)")
    print(f"no-change up                {no_change:7.1f} s   (goal <= 15 s)")
    print(f"phased up (1a data, 1b id)  {phased:7.1f} s   ({' + '.join(f'{p:.1f}' for p in phases)})")
    print(f"phased / graph              {phased / graph:7.2f}     (goal >= 1.5)")


if __name__ == "__main__":
    main()
