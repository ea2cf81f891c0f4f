"""Docs that are generated from the code stay true."""


def test_architecture_diagram_is_generated_from_the_code():
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    out = subprocess.run([sys.executable, "scripts/diagram.py", "--check"], cwd=root, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
