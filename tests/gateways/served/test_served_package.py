"""The served venue's package front: every public name imports; every module says what it
holds and exports what it names; nothing in ``engine`` imports it."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys
from typing import Any

import gateways.served

MODULES = sorted(info.name for info in pkgutil.iter_modules(gateways.served.__path__))


def test_every_public_name_imports_once() -> None:
    for name in gateways.served.__all__:
        assert getattr(gateways.served, name) is not None, name
    assert len(gateways.served.__all__) == len(set(gateways.served.__all__))


def test_every_module_has_a_docstring_and_its_all_resolves() -> None:
    assert len(MODULES) >= 15
    for name in MODULES:
        module = importlib.import_module(f"gateways.served.{name}")
        assert module.__doc__, name
        for exported in module.__all__:
            assert hasattr(module, exported), f"{name}.{exported}"


def test_the_engine_does_not_load_the_served_venue() -> None:
    probe = "import sys, engine; print(any(m.startswith('gateways') for m in sys.modules))"
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "False"


def test_serve_venue_refuses_bad_settings_naming_the_field() -> None:
    import anyio
    import pytest

    from gateways.served import serve_venue
    from gateways.simulated import SimulatedVenue

    async def serve(options: dict[str, Any]) -> None:
        venue = options.pop("venue", SimulatedVenue.demo())
        async with serve_venue(venue, **options):
            raise AssertionError("served with bad settings")

    cases: list[tuple[dict[str, Any], str]] = [
        ({"port": 70_000}, "port"),
        ({"port": "8765"}, "port"),
        ({"stream_interval": 0}, "stream_interval"),
        ({"venue": "demo"}, "venue"),
        ({"quote_asset": "usdt"}, "quote_asset"),
    ]
    for options, field in cases:
        with pytest.raises(ValueError, match=field):
            anyio.run(serve, options)
