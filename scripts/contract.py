#!/usr/bin/env python3
"""The output contract's files, made from contract/__init__.py (the one schema).

  scripts/contract.py docs            write docs/outputs.md
  scripts/contract.py docs --check    exit 1 if docs/outputs.md is not what the schema gives
  scripts/contract.py snapshot        record the current VERSION as released
                                      (contract/snapshots/<VERSION>.json; never rewrites another)
"""
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import contract  # noqa: E402

DOC = ROOT / "docs" / "outputs.md"


def main(argv: list[str]) -> int:
    if argv[:1] == ["docs"]:
        text = contract.render_markdown()
        if argv[1:] == ["--check"]:
            if DOC.read_text() != text:
                print("docs/outputs.md is stale: run scripts/contract.py docs", file=sys.stderr)
                return 1
            return 0
        DOC.write_text(text)
        return 0
    if argv == ["snapshot"]:
        path = contract.SNAPSHOTS / f"{contract.VERSION}.json"
        text = json.dumps(contract.schema(), indent=1, sort_keys=True) + "\n"
        if path.exists() and path.read_text() != text:
            print(f"{path} exists and differs: a released version is never rewritten; bump contract.VERSION",
                  file=sys.stderr)
            return 1
        path.write_text(text)
        print(f"wrote {path.relative_to(ROOT)}")
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
