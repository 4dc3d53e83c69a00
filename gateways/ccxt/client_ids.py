"""Each exchange's rules for client order ids, checked before an order leaves.

ccxt forwards ``params["clientOrderId"]`` to the exchange as it is and publishes no rule for it in
``describe()``, so the rules below are taken from the exchanges' API documentation. An exchange not
listed gets the engine's own rule (1 to 32 of letters, digits, ``_ - . :``), which every id the
engine makes already follows. An id that breaks its exchange's rule is refused with an
``InvalidInputError`` naming ``client_order_id`` and the id: a venue that rejects or, worse,
silently rewrites the id would leave an order we could never look up.
"""

from __future__ import annotations

import re

import attrs

from engine.errors import InvalidInputError

__all__ = ["ClientIdRule", "client_id_rule"]


@attrs.frozen
class ClientIdRule:
    """At most ``max_length`` characters, all matching ``alphabet`` (a regex character class)."""

    max_length: int
    alphabet: str
    described: str

    def check(self, client_order_id: str, exchange_id: str) -> str:
        """Return the id if the exchange accepts it; raise ``InvalidInputError`` otherwise."""
        if not re.fullmatch(f"{self.alphabet}{{1,{self.max_length}}}", client_order_id):
            raise InvalidInputError(
                "client_order_id", client_order_id, f"{exchange_id} accepts {self.described}"
            )
        return client_order_id


_ENGINE_RULE = ClientIdRule(32, r"[A-Za-z0-9_\-.:]", "1 to 32 letters, digits, '_', '-', '.' or ':'")

_RULES: dict[str, ClientIdRule] = {
    # newClientOrderId: ^[\.A-Z\:/a-z0-9_-]{1,36}$
    "binance": ClientIdRule(36, r"[.A-Z:/a-z0-9_\-]", "1 to 36 letters, digits, '.', ':', '/', '_' or '-'"),
    "binanceus": ClientIdRule(36, r"[.A-Z:/a-z0-9_\-]", "1 to 36 letters, digits, '.', ':', '/', '_' or '-'"),
    # clOrdId: case-sensitive letters and digits, 1 to 32
    "okx": ClientIdRule(32, r"[A-Za-z0-9]", "1 to 32 letters or digits"),
    # orderLinkId: up to 36 of letters, digits, '-' and '_'
    "bybit": ClientIdRule(36, r"[A-Za-z0-9_\-]", "1 to 36 letters, digits, '_' or '-'"),
    # clientOid: up to 40 of letters, digits, '-' and '_'
    "kucoin": ClientIdRule(40, r"[A-Za-z0-9_\-]", "1 to 40 letters, digits, '_' or '-'"),
    # clientOid: up to 50 of letters, digits, '-' and '_'
    "bitget": ClientIdRule(50, r"[A-Za-z0-9_\-]", "1 to 50 letters, digits, '_' or '-'"),
    # cl_ord_id: a UUID or up to 18 characters of free text; the short form is what we send
    "kraken": ClientIdRule(18, r"[A-Za-z0-9_\-]", "1 to 18 letters, digits, '_' or '-'"),
    # text field: 't-' plus up to 28 characters; ccxt adds the prefix, we keep the rest short
    "gate": ClientIdRule(28, r"[A-Za-z0-9_\-.]", "1 to 28 letters, digits, '_', '-' or '.'"),
}


def client_id_rule(exchange_id: str) -> ClientIdRule:
    """The client order id rule of ``exchange_id`` (the engine's own when none is known)."""
    return _RULES.get(exchange_id, _ENGINE_RULE)
