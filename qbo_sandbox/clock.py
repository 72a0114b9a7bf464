"""The sandbox clock: real time, shifted by an offset and sped up by a scale.

Everything time-dependent (token lifetimes, rate-limit windows, latency, MetaData stamps, CDC)
reads this clock, so tests move time instead of sleeping and benchmarks can run a QBO "hour"
in a real minute (scale 60) with all limits shrinking together.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta, timezone


class SandboxClock:
    """Monotonic-ish sandbox time; ``now()`` is timezone-aware UTC."""

    def __init__(self, scale: float = 1.0, offset_seconds: float = 0.0) -> None:
        self._lock = threading.Lock()
        self._scale = float(scale) if scale and scale > 0 else 1.0
        self._anchor_real = time.time()
        self._anchor_sandbox = self._anchor_real + offset_seconds

    @property
    def scale(self) -> float:
        return self._scale

    def timestamp(self) -> float:
        """Sandbox seconds since the epoch."""
        with self._lock:
            return self._anchor_sandbox + (time.time() - self._anchor_real) * self._scale

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.timestamp(), tz=UTC)

    def advance(self, seconds: float) -> None:
        """Jump forward (or back, with a negative value) by sandbox seconds."""
        with self._lock:
            self._anchor_sandbox += seconds

    def set_scale(self, scale: float) -> None:
        """Change speed without a jump: re-anchor at the current sandbox time."""
        if scale <= 0:
            raise ValueError("scale must be > 0")
        now_real = time.time()
        with self._lock:
            self._anchor_sandbox += (now_real - self._anchor_real) * self._scale
            self._anchor_real = now_real
            self._scale = float(scale)

    def real_seconds(self, sandbox_seconds: float) -> float:
        """How long a sandbox duration lasts in real time (for sleeps)."""
        return max(0.0, sandbox_seconds) / self._scale

    def sleep(self, sandbox_seconds: float) -> None:
        if sandbox_seconds > 0:
            time.sleep(self.real_seconds(sandbox_seconds))

    def offset_seconds(self) -> float:
        """How far the sandbox clock is ahead of real time right now."""
        return self.timestamp() - time.time()


def company_tz(offset: str) -> timezone:
    """'-08:00' -> a fixed-offset tzinfo (companies use a fixed offset; no DST)."""
    sign = -1 if offset.startswith("-") else 1
    hours, minutes = offset.lstrip("+-").split(":")
    return timezone(sign * timedelta(hours=int(hours), minutes=int(minutes)))


def iso_seconds(dt: datetime, offset: str) -> str:
    """MetaData style: ``2015-07-23T10:58:12-07:00``."""
    return dt.astimezone(company_tz(offset)).isoformat(timespec="seconds")


def iso_millis(dt: datetime, offset: str) -> str:
    """``time`` field style: ``2015-07-23T10:58:12.099-07:00``."""
    return dt.astimezone(company_tz(offset)).isoformat(timespec="milliseconds")


def parse_iso(value: str) -> datetime | None:
    """Parse QBO date/dateTime strings (with or without offset; '-0700' accepted)."""
    text = value.strip()
    if len(text) >= 5 and text[-5] in "+-" and text[-3] != ":" and "T" in text:
        text = text[:-2] + ":" + text[-2:]
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        return None
    return dt
