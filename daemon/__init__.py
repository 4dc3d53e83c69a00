"""The daemon: a long-running service that runs the engine against one venue and survives kill -9.

What lives here: the configuration (``config``), the write-ahead journal (``journal/``), the
gateway wrapper that journals before it acts (``journaling_gateway``), recovery after a restart
(``recovery``), the trading service the control API drives (``service``, its values in ``views``,
its errors in ``errors``), the progress stream (``progress``), logging set-up (``logs``), the
application runner with its signals (``app``) and the command line (``cli``); ``api/`` holds the
control API. The daemon imports ``engine`` (its public front and public modules) and
``gateways``; nothing in ``engine``, ``gateways`` or ``backtesting`` imports it (the command line
in ``backtesting.cli`` only hands its ``daemon`` and ``journal`` subcommands over).
"""
