"""The rate-limited order queue's internals, behind ``engine.rate_limited_queue``.

- ``handle``: ``OrderHandle``, the awaitable a submit returns, with its states and results;
- ``lanes``: the priority lanes, deadlines and the room a bounded queue has;
- ``dispatch``: the dispatcher task that takes capacity and sends each request;
- ``outcomes``: what a send's answer means: retries with back-off, look-ups of unknown outcomes,
  finished handles.

May import the engine's values (errors, orders, events, rate limits), the gateway protocol and
the clock; never the monitor, the TWAP parts or the planner.
"""
