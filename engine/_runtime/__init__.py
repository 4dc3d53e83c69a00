"""How the engine's parts run: lifetimes, supervision, virtual time and logs.

- ``virtual_loop``: the asyncio loop whose clock jumps to the next timer when idle (imports nothing
  of the engine; ``engine.clock`` builds on it);
- ``logs``: whether a logger writes debug lines, asked once;
- ``groups``: a context manager's body error out of its task group's ``ExceptionGroup`` (imports
  nothing);
- ``parent_tasks``: the supervised tasks of running parents;
- ``services``: the queue and the monitor kept running under a shield until a run has cleaned up
  (the one module here that imports them).
"""
