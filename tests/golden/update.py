"""Writes tests/golden/<stack>.urns: the URN of every resource each committed stack declares, as the
engine would name it. tests/test_golden_urns.py compares the program against these, so a change that
would replace resources (a renamed resource, a new parent) is seen in review before it is deployed.

    .venv/bin/python tests/golden/update.py    # after a change that adds or removes resources on purpose
"""
from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent.parent), str(HERE.parent)]

STACKS = ("dev", "prod")


def urns(stack: str) -> list[str]:
    from harness import evaluate, stack_config

    return sorted(r.urn for r in evaluate(stack, stack_config(stack)).records)


def main() -> None:
    for stack in STACKS:
        (HERE / f"{stack}.urns").write_text("\n".join(urns(stack)) + "\n")
        print(f"wrote tests/golden/{stack}.urns")


if __name__ == "__main__":
    main()
