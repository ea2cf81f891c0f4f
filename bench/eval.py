"""Program evaluation time under Pulumi mocks, per stack: median of several runs, and the
resource count. Each run is a fresh interpreter, so imports are part of the figure.

    .venv/bin/python bench/eval.py [--runs 5] [dev prod]
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

ONE_RUN = r"""
import json, sys, time
t0 = time.perf_counter()
sys.path[:0] = [{root!r}, {tests!r}]
from harness import evaluate, stack_config
t1 = time.perf_counter()
ev = evaluate({stack!r}, stack_config({stack!r}))
t2 = time.perf_counter()
custom = sum(1 for r in ev.records if r.custom)
print(json.dumps({{"import_s": t1 - t0, "eval_s": t2 - t1, "resources": len(ev.records), "custom": custom,
                   "containers": len(ev.containers())}}))
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("stacks", nargs="*", default=["dev", "prod"])
    args = ap.parse_args()
    print(f"{'stack':6} {'runs':>4} {'median eval s':>13} {'min':>7} {'max':>7} {'import s':>9} {'resources':>9} {'custom':>6} {'containers':>10}")
    for stack in args.stacks:
        results = []
        for _ in range(args.runs):
            code = ONE_RUN.format(root=str(ROOT), tests=str(ROOT / "tests"), stack=stack)
            out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
            results.append(json.loads(out.stdout.strip().splitlines()[-1]))
        evals = [r["eval_s"] for r in results]
        imports = [r["import_s"] for r in results]
        last = results[-1]
        print(f"{stack:6} {args.runs:>4} {statistics.median(evals):>13.3f} {min(evals):>7.3f} {max(evals):>7.3f} "
              f"{statistics.median(imports):>9.3f} {last['resources']:>9} {last['custom']:>6} {last['containers']:>10}")


if __name__ == "__main__":
    main()
