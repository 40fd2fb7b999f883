"""Every benchmark `python -m bench` runs: one line each (module under bench/, title, args).

Adding a benchmark is one line here; its module must print its figures with
`bench._common.figure` and must also run alone as `python -m bench.<module> [args]`.
The arguments keep `make bench` under ten minutes on a shared 2-core machine; each
module's --help gives the full-size options (e.g. broadcast_realtime --recipients 10000).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Benchmark:
    """One benchmark module and the arguments `make bench` gives it."""

    module: str
    title: str
    args: tuple[str, ...] = ()
    runs: int | None = None  # None: the runner's --runs
    timeout: float = 600.0


BENCHMARKS: list[Benchmark] = [
    Benchmark(
        "telegram_e2e",
        "1. End to end on Telegram (fake Bot API, polling)",
        ("--guardians", "50", "200", "--steps", "2", "--paced-guardians", "20"),
        runs=2,
    ),
    Benchmark(
        "whatsapp_webchat_e2e",
        "2. End to end on WhatsApp (signed webhooks) and the web chat (long-poll)",
        ("--guardians", "50", "200", "--steps", "1"),
        runs=1,
    ),
    Benchmark("engine_answers", "3. Engine and storage alone (park card)", ("--guardians", "8")),
    # 1,500 recipients take about 50 s at the cap; the full size is a separate run of about
    # 6 minutes: python -m bench.broadcast_realtime --recipients 10000
    Benchmark(
        "broadcast_realtime",
        "4. Broadcast on the real clock",
        ("--recipients", "1500"),
        runs=1,
    ),
    Benchmark("spatial_lookup", "5. Spatial lookup (point to space)", ("--queries", "3000")),
    Benchmark(
        "serve_memory",
        "6. Memory of guardianes serve (10,000 guardians, 100,000 submissions)",
        ("--load-guardians", "50"),
        runs=1,
    ),
    Benchmark(
        "scale_out",
        "7. Scale-out on PostgreSQL (1, 2, 4 uvicorn workers; web chat across processes)",
        ("--guardians", "30", "--chat-guardians", "20", "--steps", "1"),
        runs=1,
    ),
    Benchmark("public_map", "8. Public map (/mapa, real layers)", ("--runs", "3"), runs=1),
    Benchmark(
        "staff_pages", "8. Staff discrepancy queue (10,000 discrepancies)", ("--runs", "3"), runs=1
    ),
]
