"""Real processes for the daemon's crash and shutdown tests: a paper venue and a daemon, on 127.0.0.1.

Every process is started with its output in files under the test's folder and is stopped (by its
own id) when the test ends, however it ends.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

TOKEN = "crash-test-token-0123456789"
_STARTUP_SECONDS = 60.0


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)


class VenueProcess:
    """``python -m daemon.paper`` on an ephemeral port."""

    def __init__(self, folder: Path, *, seed: int = 11, latency: float = 0.02) -> None:
        port_file = folder / "venue.port"
        self._log = (folder / "venue.log").open("wb")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "daemon.paper",
                "--port-file",
                str(port_file),
                "--seed",
                str(seed),
                "--step",
                "0.05",
                "--limit",
                "20000",
                "--latency",
                str(latency),
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + _STARTUP_SECONDS
        while not port_file.exists() or not port_file.read_text():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the paper venue did not start (see {folder / 'venue.log'})")
            time.sleep(0.05)
        self.address = f"127.0.0.1:{port_file.read_text()}"

    def audit(self) -> dict[str, Any]:
        """The venue's submits per client order id and filled quantity per client order id."""
        import anyio

        from daemon.paper import PaperVenueGateway

        async def ask() -> dict[str, Any]:
            async with PaperVenueGateway(self.address) as gateway:
                return await gateway.audit()

        return anyio.run(ask)

    def stop(self) -> None:
        """Stop it (SIGTERM, then SIGKILL if need be)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                _stop(self.process)
        self._log.close()


VENUE_KEYS = {"TWAP_ENGINE_API_KEY": "paper-key", "TWAP_ENGINE_API_SECRET": "paper-secret"}


class ServedVenueProcess:
    """``twap-engine serve-venue`` (the paper exchange in Binance's dialect) on an ephemeral port."""

    def __init__(self, folder: Path) -> None:
        self._log = (folder / "venue.log").open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "backtesting", "serve-venue", "--port", "0"],
            stdout=subprocess.PIPE,
            stderr=self._log,
            env={**os.environ, **VENUE_KEYS},
        )
        assert self.process.stdout is not None
        deadline = time.monotonic() + _STARTUP_SECONDS
        self.url = ""
        while not self.url and time.monotonic() < deadline:
            line = self.process.stdout.readline().decode()
            if not line:
                break
            if line.startswith("REST "):
                self.url = line.split()[1].removesuffix("/api/v3")
        if not self.url:
            _stop(self.process)
            raise RuntimeError(f"the served venue did not start (see {folder / 'venue.log'})")

    def stop(self) -> None:
        """Stop it (SIGTERM, then SIGKILL if need be)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                _stop(self.process)
        if self.process.stdout is not None:
            self.process.stdout.close()
        self._log.close()


def write_config(folder: Path, venue_address: str, *, served: bool = False, **shutdown: Any) -> Path:
    """A daemon configuration on the paper venue (or the served exchange at the URL ``venue_address``),
    with its journal and token file in ``folder``."""
    grace = shutdown.get("grace_seconds", 10.0)
    resting = shutdown.get("resting_children", "cancel")
    venue = (
        f'kind = "served"\nurl = "{venue_address}"'
        if served
        else f'kind = "paper"\naddress = "{venue_address}"'
    )
    path = folder / "daemon.toml"
    path.write_text(
        f"""
[venue]
{venue}
[queue]
max_orders_per_minute = 6000
[journal]
path = "{folder / "journal.sqlite3"}"
synchronous = "normal"
[api]
host = "127.0.0.1"
port = 0
token_file = "{folder / "api-token"}"
[logging]
level = "info"
format = "json"
[shutdown]
resting_children = "{resting}"
grace_seconds = {grace}
settle_timeout = 10.0
""",
        encoding="utf-8",
    )
    return path


class DaemonProcess:
    """``twap-engine daemon --config ...``; ``url`` once it is ready."""

    def __init__(self, folder: Path, config: Path, number: int) -> None:
        self._stderr = (folder / f"daemon-{number}.log").open("wb")
        environment = {**os.environ, **VENUE_KEYS, "TWAP_ENGINE_API_TOKEN": TOKEN}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "backtesting", "daemon", "--config", str(config)],
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            env=environment,
        )
        self.log_path = folder / f"daemon-{number}.log"
        self.url = self._wait_ready()

    def _wait_ready(self) -> str:
        import selectors

        assert self.process.stdout is not None
        selector = selectors.DefaultSelector()
        selector.register(self.process.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + _STARTUP_SECONDS
        try:
            while time.monotonic() < deadline:
                if not selector.select(timeout=deadline - time.monotonic()):
                    break
                line = self.process.stdout.readline().decode()
                if not line:
                    break
                if "API on " in line:
                    return line.split("API on ", 1)[1].split(" ", 1)[0]
        finally:
            selector.close()
        raise RuntimeError(f"the daemon did not become ready (see {self.log_path})")

    def request(
        self, method: str, path: str, body: dict[str, Any] | None = None, key: str | None = None
    ) -> Any:
        """One API call with the bearer token; the decoded JSON answer."""
        headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
        if key is not None:
            headers["Idempotency-Key"] = key
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, headers=headers, method=method)
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    def kill(self) -> None:
        """``kill -9``."""
        _stop(self.process)
        self._close()

    def terminate(self, timeout: float = 60.0) -> int:
        """SIGTERM and wait; the exit status."""
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        finally:
            self._close()

    def _close(self) -> None:
        if self.process.stdout is not None and not self.process.stdout.closed:
            self.process.stdout.close()
        if not self._stderr.closed:
            self._stderr.close()


@contextmanager
def running(*processes: Any) -> Iterator[None]:
    """Stop every process on the way out."""
    try:
        yield
    finally:
        for process in processes:
            if isinstance(process, (VenueProcess, ServedVenueProcess)):
                process.stop()
            elif isinstance(process, DaemonProcess):
                process.kill()


def wait_until(predicate: Any, timeout: float, what: str) -> None:
    """Poll ``predicate`` every 0.2 s until true; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def is_api_error(error: BaseException) -> bool:
    """True for a failed API call (the daemon died under it)."""
    return isinstance(error, (urllib.error.URLError, ConnectionError, TimeoutError, OSError))


def submit_twap(daemon: DaemonProcess, body: dict[str, Any], key: str) -> None:
    """POST one TWAP under an idempotency key; a daemon killed under the call is no failure (the
    next start answers the same key with the same parent)."""
    try:
        daemon.request("POST", "/v1/twaps", body, key=key)
    except Exception as error:
        if not is_api_error(error):
            raise
