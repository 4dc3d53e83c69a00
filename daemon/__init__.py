"""The daemon: a long-running service that runs the engine against one venue and survives kill -9.

What lives here: the configuration (``config``); the write-ahead journal (``journal/``); the
gateway wrapper that journals before it acts (``journaling_gateway``); recovery after a restart
(``recovery``); the trading service the control API drives (``service``), with its parents
(``parents``, one record each, and ``book``, which journals them), its rebalance planning
(``rebalance``), its progress stream (``progress``), its running measures (``measures``), its
values (``views``) and its errors (``errors``); logging set-up (``logs``); the application runner
with its signals (``app``) and the command line (``cli``). ``api/`` holds the control API, and
``paper/`` a simulated venue served from a process of its own (the crash tests' venue).

The daemon imports ``engine`` (its public front and public modules) and ``gateways``; nothing in
``engine``, ``gateways`` or ``backtesting`` imports it (``backtesting.cli`` only hands its
``daemon`` and ``journal`` subcommands over, importing ``daemon.cli`` when asked).
"""
