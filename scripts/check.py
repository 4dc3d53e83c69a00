"""Run the whole check suite: ruff, mypy (strict) and pytest. ``python3 scripts/check.py``.

Creates ``.venv`` with everything needed on first use. Extra arguments go to pytest.
"""

from __future__ import annotations

import subprocess
import sys

from _bootstrap import ROOT, ensure_venv


def main() -> int:
    """Run each tool in turn; stop at the first that fails and return its exit code."""
    ensure_venv()
    steps = [
        [sys.executable, "-m", "ruff", "check", "."],
        [sys.executable, "-m", "mypy"],
        [sys.executable, "-m", "pytest", "-q", *sys.argv[1:]],
    ]
    for step in steps:
        print("$", " ".join(step[2:]), flush=True)
        code = subprocess.run(step, cwd=ROOT).returncode
        if code != 0:
            return code
    return 0


if __name__ == "__main__":
    sys.exit(main())
