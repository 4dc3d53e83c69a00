"""The TWAP executor's internals, behind ``engine.twap_executor`` and ``engine.execution_engine``.

Values and rules, which import only the engine's values and the clock:

- ``params``: ``TWAPParams``, the slice styles and the completion policy;
- ``parent``: a parent order's state and the sums of its children, with its transition table;
- ``child``: one child order's state and fills, with its transition table;
- ``slicing``: the slice plan (sizes, offsets, jitter, catch-up);
- ``report``: the ``ExecutionReport`` and its slice lines;
- ``quote_cache``: quotes shared by the parents of one symbol;
- ``timing``: when slices are due, on virtual time and on a real clock;
- ``mids``: the mids a parent samples (its interval TWAP and last mid).

The runner, which composes the queue, the monitor and the completion handler (so it sits above
them, and below the executor and the engine that start it):

- ``parts``: what every parent of one engine runs on;
- ``runner``: the task of one parent: its schedule, its deadline, its report;
- ``twap_handle``: ``TWAPHandle``, a parent as the engine hands it back (status, wait, cancel);
- ``pace``: a running parent's schedule decisions (POV sizes, adaptive crossing, the completion
  window), from ``engine/_schedules/``;
- ``pricing``: the limit price of each slice style;
- ``plans``: a rebalancing plan's order of work and its summed-up report (imports the plan).
"""
