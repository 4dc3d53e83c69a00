"""A simulated venue in a process of its own, and the gateway that reaches it over TCP.

The daemon's crash tests need a venue that outlives the daemon: ``server`` serves one
``SimulatedVenue`` on 127.0.0.1 (``python -m daemon.paper``), ``client`` is the
``TradingGateway`` that talks to it, ``codec`` turns orders, events and snapshots into JSON and
back, and the venue's errors into the engine's. One JSON line per request on its own connection;
an event stream on a connection of its own. It is a test venue (no authentication, localhost):
real venues are reached through their own gateways.
"""

from __future__ import annotations

from daemon.paper.client import PaperVenueGateway
from daemon.paper.server import serve_venue

__all__ = ["PaperVenueGateway", "serve_venue"]
