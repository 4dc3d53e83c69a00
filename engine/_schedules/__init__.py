"""Schedules beyond TWAP, and the pacing of deadline completion: the maths, without I/O.

- ``kinds``: the ``Schedule`` names a parent may be worked by;
- ``profiles``: how a parent's quantity is spread over its slices (TWAP, a VWAP volume profile
  or its U-shaped default, the Almgren–Chriss trajectory);
- ``volume``: the market volume a parent has observed in its quotes;
- ``rules``: the decisions made while a parent runs (POV slice sizes, the adaptive schedule's
  crossing, when the completion window opens and how large each completion clip is).

Every module here imports only the engine's shared values (``engine.numbers``,
``engine.instruments``, ``engine.market``, ``engine.fields``, ``engine.errors``) and each other;
``engine._twap`` imports them, never the reverse.
"""
