from __future__ import annotations

import importlib

import engine


def test_every_public_name_imports() -> None:
    for name in engine.__all__:
        assert getattr(engine, name) is not None, name


def test_public_names_are_sorted_and_unique() -> None:
    assert list(engine.__all__) == sorted(set(engine.__all__))


def test_every_module_all_resolves() -> None:
    for module_name in ("engine.errors", "engine.events", "engine.orders", "engine.instruments"):
        module = importlib.import_module(module_name)
        for name in module.__all__:
            assert hasattr(module, name), f"{module_name}.{name}"
