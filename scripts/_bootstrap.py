"""Make sure the project's virtual environment exists and holds the project, then re-run there.

Used by ``scripts/check.py`` and ``scripts/demo.py`` so that each works on a fresh machine with
only Python 3.11+: the first run creates ``.venv`` and installs the project with its dev extra.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".installed"


def _wanted_stamp() -> str:
    return hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()


def ensure_venv() -> None:
    """Re-execute the calling script inside ``.venv``, creating and filling it first if needed."""
    if Path(sys.prefix).resolve() == VENV.resolve():
        return
    if not PYTHON.exists():
        print("creating .venv ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    if not STAMP.exists() or STAMP.read_text() != _wanted_stamp():
        print("installing the project and its dev tools into .venv ...", flush=True)
        pip = [str(PYTHON), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        subprocess.run([*pip, "-e", f"{ROOT}[dev]"], check=True)
        STAMP.write_text(_wanted_stamp())
    os.execv(str(PYTHON), [str(PYTHON), *sys.argv])
