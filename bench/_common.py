"""Helpers shared by the benchmark scripts."""

from __future__ import annotations

import resource
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
CHIHUAHUA_DATA = REPO_ROOT.parent / "shared" / "data" / "chihuahua"


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far, in MiB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports KiB, macOS bytes.
    return peak / 1024 / 1024 if sys.platform == "darwin" else peak / 1024


def figure(name: str, value: float, unit: str) -> None:
    """Print one figure in a fixed, grep-able layout."""
    print(f"{name:<48} {value:>12.2f} {unit}")
