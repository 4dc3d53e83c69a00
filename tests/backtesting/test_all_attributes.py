"""The backtesting package's public front: every name in ``__all__`` imports, and the list is sorted."""

from __future__ import annotations

import subprocess
import sys

import backtesting


def test_every_public_name_imports() -> None:
    for name in backtesting.__all__:
        assert getattr(backtesting, name) is not None, name


def test_the_public_names_are_sorted_and_unique() -> None:
    assert list(backtesting.__all__) == sorted(set(backtesting.__all__))


def test_the_engine_never_imports_the_backtesting_package_or_a_gateway() -> None:
    # A fresh interpreter imports every engine module and lists what else got imported.
    code = (
        "import importlib, pkgutil, sys, engine\n"
        "for module in pkgutil.iter_modules(engine.__path__):\n"
        "    importlib.import_module('engine.' + module.name)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('backtesting', 'gateways')))\n"
    )
    output = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert output.strip() == "[]"
