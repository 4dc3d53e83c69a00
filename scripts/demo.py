"""The main job on the simulated venue: a three-stock rebalance executed by TWAP.

    python3 scripts/demo.py [--out DIR] [--seed N]

Works on a fresh machine with only Python 3.11+: the first run creates ``.venv`` and installs the
project. Runs on virtual time (eighteen simulated minutes take a fraction of a second), prints
the plan and the execution summary, and writes ``report.json`` and ``execution.png``. It is the
same as ``twap-engine demo`` once the project is installed.
"""

from __future__ import annotations

import sys

from _bootstrap import ensure_venv

ensure_venv()

from backtesting.cli import main  # noqa: E402 - importable only once ensure_venv switched to .venv

if __name__ == "__main__":
    sys.exit(main(["demo", *sys.argv[1:]]))
