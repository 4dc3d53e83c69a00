"""The execution monitor's internals, behind ``engine.execution_monitor``.

- ``sequence``: which events of the venue's numbered stream are new;
- ``status``: ``CompletionStatus`` (a parent's progress) and the monitor's statistics.

May import the engine's values and the TWAP parent state (``engine._twap.parent``); nothing above.
"""
