"""The TWAP executor's internals, behind ``engine.twap_executor`` and ``engine.execution_engine``.

Values and rules, which import only the engine's values and the clock:

- ``params``: ``TWAPParams``, the slice styles and the completion policy;
- ``parent``: a parent order's and its children's state, with their transition tables;
- ``slicing``: the slice plan (sizes, offsets, jitter, catch-up);
- ``report``: the ``ExecutionReport`` and its slice lines;
- ``quote_cache``: quotes shared by the parents of one symbol;
- ``timing``: when slices are due, on virtual time and on a real clock.

The runner, which composes the queue, the monitor and the completion handler (so it sits above
them, and below the executor and the engine that start it):

- ``parts``: what every parent of one engine runs on;
- ``runner``: the task of one parent: its schedule, its deadline, its report;
- ``plans``: a rebalancing plan's order of work and its summed-up report (imports the plan).
"""
