"""Run the whole check suite: ruff, mypy (strict) and pytest. ``python3 scripts/check.py``.

Creates ``.venv`` with everything needed on first use. Extra arguments go to pytest.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from _bootstrap import ROOT, ensure_venv

CHROMIUM = Path("/usr/bin/chromium")


def ensure_chromium() -> None:
    """Install Debian's chromium for the daemon page's browser test, if missing and we are root."""
    if CHROMIUM.exists() or not hasattr(os, "geteuid") or os.geteuid() != 0 or not shutil.which("apt-get"):
        return
    print("installing chromium for the browser test ...", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "chromium"]):
        done = subprocess.run(
            command, env=env, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        if done.returncode != 0:
            print(done.stderr, file=sys.stderr, flush=True)
            return


def main() -> int:
    """Run each tool in turn; stop at the first that fails and return its exit code."""
    ensure_venv()
    ensure_chromium()
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
