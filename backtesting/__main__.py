"""``python -m backtesting ...``: the same command line as ``twap-engine``."""

from __future__ import annotations

import sys

from backtesting.cli import main

if __name__ == "__main__":
    sys.exit(main())
