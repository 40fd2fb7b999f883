"""Run every registered benchmark several times; print a table and write bench/RESULTS.md.

Each run is a fresh process (`python -m bench.<module>`), so memory and event loops do not
carry over. A figure is reported as the median of its runs with the spread (min-max),
beside the median of its baseline measured in the same runs and the median of the ratio.

Usage: python -m bench [--runs 3] [--only telegram_e2e ...] [--output bench/RESULTS.md]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench._common import FIGURES_ENV, REPO_ROOT
from bench.registry import BENCHMARKS, Benchmark

RESULTS = REPO_ROOT / "bench" / "RESULTS.md"
VERSIONS = ("guardianes", "aiogram", "aiohttp", "sqlalchemy", "aiosqlite", "asyncpg", "shapely")


@dataclass
class Series:
    """One figure over several runs."""

    name: str
    unit: str
    target: str = ""
    baseline_name: str = ""
    values: list[float] = field(default_factory=list)
    baselines: list[float] = field(default_factory=list)

    def add(self, record: dict[str, object]) -> None:
        """Add one run's record."""
        self.values.append(float(record["value"]))  # type: ignore[arg-type]
        if record.get("baseline") is not None:
            self.baselines.append(float(record["baseline"]))  # type: ignore[arg-type]
            self.baseline_name = str(record.get("baseline_name") or "")
        self.target = str(record.get("target") or self.target)

    def cells(self) -> tuple[str, str, str, str]:
        """Median, spread, baseline median, ratio median (text)."""
        median = _number(statistics.median(self.values))
        spread = (
            f"{_number(min(self.values))}–{_number(max(self.values))}"
            if len(self.values) > 1
            else "one run"
        )
        if not self.baselines:
            return median, spread, "", ""
        baseline = f"{_number(statistics.median(self.baselines))} ({self.baseline_name})"
        ratios = [v / b for v, b in zip(self.values, self.baselines, strict=False) if b]
        middle = statistics.median(ratios) if ratios else None
        ratio = "" if middle is None else f"{middle:.2f}×" if middle >= 0.1 else f"{middle:.4f}×"
        return median, spread, baseline, ratio


@dataclass
class Outcome:
    """What one benchmark produced over its runs."""

    benchmark: Benchmark
    runs: int
    seconds: float
    series: dict[str, Series] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)


def _number(value: float) -> str:
    if math.isnan(value):
        return "n/a"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def run_once(benchmark: Benchmark, extra: list[str], log: Path) -> tuple[list[dict], str | None]:
    """One run in a fresh process; its figure records, and an error text if it failed."""
    with tempfile.NamedTemporaryFile("r", suffix=".jsonl", delete=False) as figures:
        path = Path(figures.name)
    env = {**os.environ, FIGURES_ENV: str(path)}
    command = [sys.executable, "-m", f"bench.{benchmark.module}", *benchmark.args, *extra]
    error = None
    try:
        with log.open("a", encoding="utf-8") as out:
            out.write(f"\n$ {' '.join(command)}\n")
            out.flush()
            done = subprocess.run(
                command,
                cwd=REPO_ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=benchmark.timeout,
                check=False,
            )
        if done.returncode != 0:
            error = f"exit status {done.returncode} (see {log})"
    except subprocess.TimeoutExpired:
        error = f"timed out after {benchmark.timeout:.0f} s"
    records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    path.unlink(missing_ok=True)
    return records, error


def run_benchmark(benchmark: Benchmark, runs: int, extra: list[str], log: Path) -> Outcome:
    """Every run of one benchmark, figures grouped by name."""
    runs = benchmark.runs or runs
    outcome = Outcome(benchmark, runs, 0.0)
    started = time.monotonic()
    for _ in range(runs):
        records, error = run_once(benchmark, extra, log)
        if error:
            outcome.failures.append(error)
        for record in records:
            name = str(record["name"])
            series = outcome.series.setdefault(name, Series(name, str(record["unit"])))
            series.add(record)
    outcome.seconds = time.monotonic() - started
    return outcome


def machine() -> list[tuple[str, str]]:
    """What the figures were measured on."""
    versions = []
    for package in VERSIONS:
        try:
            versions.append(f"{package} {metadata.version(package)}")
        except metadata.PackageNotFoundError:
            continue
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return [
        ("date", datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")),
        ("machine", f"{platform.machine()}, {os.cpu_count()} cores, {platform.platform()}"),
        ("python", platform.python_version()),
        ("versions", ", ".join(versions)),
        ("commit", commit or "unknown"),
        ("load average at the end", load),
    ]


def table(outcome: Outcome) -> Table:
    """The rich table of one benchmark."""
    title = f"{outcome.benchmark.title} — {outcome.runs} run(s), {outcome.seconds:.0f} s"
    result = Table(title=title, title_justify="left")
    for column in ("figure", "median", "spread", "unit", "baseline (same run)", "ratio", "target"):
        result.add_column(column, justify="right" if column in ("median", "ratio") else "left")
    for series in outcome.series.values():
        median, spread, baseline, ratio = series.cells()
        result.add_row(series.name, median, spread, series.unit, baseline, ratio, series.target)
    return result


def markdown(outcomes: list[Outcome], notes: str) -> str:
    """RESULTS.md: the machine, then one table per benchmark, then the closing notes."""
    lines = ["# Benchmark results", "", "Written by `make bench` (`python -m bench`).", ""]
    lines += [f"- **{key}**: {value}" for key, value in machine()]
    lines += [
        "",
        "Each figure is the median of the runs, with the spread (min–max) and, where the",
        "benchmark has one, the median of its baseline measured in the same runs and the",
        "median ratio figure/baseline. The machine is shared: compare ratios, not absolutes.",
    ]
    for outcome in outcomes:
        lines += [
            "",
            f"## {outcome.benchmark.title}",
            "",
            f"`python -m bench.{outcome.benchmark.module} {' '.join(outcome.benchmark.args)}`"
            f" — {outcome.runs} run(s), {outcome.seconds:.0f} s.",
            "",
        ]
        if outcome.failures:
            lines += [f"**Failed:** {'; '.join(outcome.failures)}", ""]
        lines += [
            "| figure | median | spread | unit | baseline (same run) | ratio | target |",
            "| --- | ---: | --- | --- | --- | ---: | --- |",
        ]
        for series in outcome.series.values():
            median, spread, baseline, ratio = series.cells()
            lines.append(
                f"| {series.name} | {median} | {spread} | {series.unit} | {baseline} | {ratio} "
                f"| {series.target} |"
            )
    if notes:
        lines += ["", notes.rstrip()]
    return "\n".join(lines) + "\n"


def main() -> None:
    """Parse arguments, run the selected benchmarks, print and write the results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=3, help="runs per benchmark (default 3)")
    parser.add_argument("--only", nargs="*", default=None, help="modules to run (default all)")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument(
        "--notes",
        type=Path,
        default=REPO_ROOT / "bench" / "NOTES.md",
        help="closing notes appended to the results (what limits a missed target)",
    )
    args = parser.parse_args()
    selected = [b for b in BENCHMARKS if args.only is None or b.module in args.only]
    # Piped (make bench | tee): wide enough that figure names stay on one line.
    console = Console() if sys.stdout.isatty() else Console(width=180)
    log = Path(tempfile.gettempdir()) / "guardianes-bench.log"
    log.write_text("")
    outcomes = []
    for benchmark in selected:
        console.print(f"[bold]{benchmark.title}[/bold] (python -m bench.{benchmark.module})")
        outcome = run_benchmark(benchmark, args.runs, [], log)
        outcomes.append(outcome)
        console.print(table(outcome))
        for failure in outcome.failures:
            console.print(f"[red]failed: {failure}[/red]")
    notes = args.notes.read_text(encoding="utf-8") if args.notes.is_file() else ""
    args.output.write_text(markdown(outcomes, notes), encoding="utf-8")
    console.print(f"Written {args.output} (output of every run: {log})")
    if any(o.failures for o in outcomes):
        sys.exit(1)


if __name__ == "__main__":
    main()
