"""The internals of ``engine.rate_limited_queue``: the parts ``RateLimitedOrderQueue`` is composed of.

The queue (public, in ``engine/rate_limited_queue.py``) owns one of each part, builds them in its
constructor and hands each the others it needs; no part reaches into another's fields, and no
part knows the queue itself (a handle sees it only through the ``HandleOwner`` protocol).

- ``handle.py``: ``OrderHandle`` (the one record per request, awaitable for its ``OrderResult``),
  its lanes and states, and the transition table every change of state goes through;
- ``lanes.py``: ``Lanes``, where requests wait (priority lanes, the line for room, back-off and
  deadline timers);
- ``limits.py``: the exact accounting of rate limits (``RollingWindow``, ``TokenBucket``, and
  ``LimitGroup`` of both), pure functions of the time they are given;
- ``limiter.py``: ``Limiter``, the capacity each request takes under the venue's limits, the pause
  after a 429 and the jittered back-off;
- ``outcomes.py``: ``OutcomeResolver``, what each answer of the venue means (accept, reject,
  retry, look an unknown outcome up) and the one place a request is finished;
- ``dispatcher.py``: ``Dispatcher``, the dispatcher task and its senders, and every request made
  to the gateway;
- ``intake.py``: ``Intake``, how a new request is checked, placed in its lane, or withdrawn;
- ``statistics.py``: ``QueueStatistics``, the snapshot the queue reports;
- ``closing.py``: the way out, where the cancels still waiting are sent within a grace (imports
  lanes and handle).

Imports point one way: intake → dispatcher → outcomes → lanes and limiter → handle and limits (each may
import those to its right; statistics imports none of them). Modules here may import the
engine's shared values and protocols (``engine.errors``, ``engine.orders``, ``engine.events``,
``engine.gateway``, ``engine.rate_limits``, ``engine.clock``, ...), never the public subsystem
modules (``engine.rate_limited_queue``, ``engine.twap_executor``, ...) nor another private folder.
"""
