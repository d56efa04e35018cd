"""Argument checks shared by the trainer commands (train, sample, next-token).

A mistake in a command's arguments, or in the files they name, raises `UsageError`
before any work starts; the command's main() turns it into one line on stderr,
`gristmill COMMAND: message`, and exit status 2 (argparse's own convention), never a
traceback. The checks are small plain functions so they can be tested without a
training run.
"""
from __future__ import annotations

import math
import os

from gristmill.usage import UsageError, report  # noqa: F401 (re-exported)


def flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def require_int(name: str, value, minimum: int) -> None:
    if value is None or int(value) < minimum:
        what = "positive" if minimum == 1 else f">= {minimum}"
        raise UsageError(f"{flag(name)} must be {what}, got {value}")


def require_float(name: str, value, *, low: float | None = None, high: float | None = None,
                  low_open: bool = False, high_open: bool = False) -> None:
    """value in the interval [low, high] (or open at either end); NaN and inf refused."""
    ok = value is not None and math.isfinite(value)
    if ok and low is not None:
        ok = value > low if low_open else value >= low
    if ok and high is not None:
        ok = value < high if high_open else value <= high
    if not ok:
        if low is not None and high is not None:
            want = (f"in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}")
        elif low is not None:
            want = f"{'>' if low_open else '>='} {low:g}"
        else:
            want = f"{'<' if high_open else '<='} {high:g}"
        raise UsageError(f"{flag(name)} must be {want}, got {value}")


def fmt_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB", "TB", "PB"):
        if abs(n) < 1000 or unit == "PB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} PB"  # pragma: no cover


def host_memory_available() -> tuple[int, str]:
    """(bytes, description) of the RAM this process could still use."""
    try:
        import psutil  # a dependency of orbax-checkpoint
        return int(psutil.virtual_memory().available), "available RAM"
    except Exception:  # noqa: BLE001 - fall back to POSIX sysconf
        pass
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024, "available RAM"
    except OSError:
        pass
    return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"), "physical RAM"


def check_writable_dir(name: str, path: str) -> None:
    """`path` is, or can be created as, a directory this process may write into."""
    path = os.path.abspath(path)
    if os.path.exists(path):
        if not os.path.isdir(path):
            raise UsageError(f"{flag(name)} {path} exists and is not a directory")
        if not os.access(path, os.W_OK | os.X_OK):
            raise UsageError(f"{flag(name)} {path} is not writable")
        return
    parent = os.path.dirname(path)
    while parent and not os.path.exists(parent):
        parent = os.path.dirname(parent)
    if not os.path.isdir(parent):
        raise UsageError(f"{flag(name)} {path} cannot be created: {parent} is not a directory")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UsageError(f"{flag(name)} {path} cannot be created: {parent} is not writable")
