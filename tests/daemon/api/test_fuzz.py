"""Fuzzing the OpenAPI schema with schemathesis finds no server error (no 5xx) on any path, and
every answer is one the schema documents (status code, content type, body).

The API runs on a real uvicorn on 127.0.0.1 (real time, a thread of its own) over a real service
on the simulated venue; every operation but the endless event stream gets a bounded number of
generated requests, valid ones and invalid ones, with the token. Derandomized, so CI replays the
same requests each run. Only schemathesis' "valid data is accepted" check is left out: a
schema-valid symbol is still refused (422) unless the venue lists it.
"""

from __future__ import annotations

from typing import Any

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.daemon.api.harness import AUTH, served_api_in_thread

EXAMPLES_PER_OPERATION = 50
SKIPPED = {("GET", "/v1/events")}  # an endless stream: covered by test_events
# The venue's symbols, put into some generated bodies so that they reach the engine, not just
# the symbol check (``None``: keep the generated symbol).
KNOWN_SYMBOLS = st.sampled_from([None, "AAPL", "MSFT", "GOOGL"])


def with_known_symbol(case: Any, symbol: str | None) -> Any:
    body = case.body
    if symbol is None or not isinstance(body, dict):
        return case
    if isinstance(body.get("symbol"), str):
        body["symbol"] = symbol
    for key in ("target_weights", "current_positions", "prices"):
        mapping = body.get(key)
        if isinstance(mapping, dict) and mapping:
            first = next(iter(mapping))
            mapping[symbol] = mapping.pop(first)
    return case


def fuzz(url: str) -> int:
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
    operations = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), f"the schema has an operation schemathesis cannot read: {result.err()}"
        operations.append(result.ok())
    for operation in operations:
        if (operation.method.upper(), operation.path) in SKIPPED:
            continue
        generated = st.one_of(
            operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE)
        )
        strategy = st.builds(with_known_symbol, generated, KNOWN_SYMBOLS)

        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=strategy)
        def call(case: Any) -> None:
            response = case.call(base_url=url, headers=AUTH, timeout=30)
            # Raises (and hypothesis shrinks to the smallest request) on any failed check, a 5xx
            # included: the checks' failures are exception groups, not assertions.
            case.validate_response(response, excluded_checks=[positive_data_acceptance])
            assert response.status_code < 500

        call()
    return len(operations)


def test_fuzzing_the_openapi_schema_finds_no_server_error() -> None:
    with served_api_in_thread() as url:
        operations = fuzz(url)
    assert operations >= 8
