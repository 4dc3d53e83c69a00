"""The daemon configures logging (the library never does): JSON lines off a terminal, with the
engine's bound ids; run in a fresh process, since configuring structlog is process-wide."""

from __future__ import annotations

import json
import subprocess
import sys

_SCRIPT = """
import io, logging, sys
import structlog
from daemon.config import LoggingConfig
from daemon.logs import configure_logging
configure_logging(LoggingConfig(level="info", format="{format}"), stream=sys.stdout)
structlog.get_logger("engine").bind(parent_id="P1").info("child sent", child_id="C7")
structlog.get_logger("engine").debug("not shown")
logging.getLogger("uvicorn.error").info("from the standard library")
"""


def _run(log_format: str) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-c", _SCRIPT.format(format=log_format)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout.splitlines()


def test_off_a_terminal_each_line_is_json_with_the_bound_ids() -> None:
    lines = [json.loads(line) for line in _run("auto")]
    assert len(lines) == 2
    first, second = lines
    assert (first["event"], first["parent_id"], first["child_id"], first["level"]) == (
        "child sent",
        "P1",
        "C7",
        "info",
    )
    assert first["timestamp"].endswith("Z")
    assert (second["event"], second["logger"]) == ("from the standard library", "uvicorn.error")


def test_console_format_is_readable_text() -> None:
    lines = _run("console")
    assert "child sent" in lines[0]
    assert "parent_id=P1" in lines[0]
    assert not lines[0].startswith("{")
