"""End to end on WhatsApp (signed webhooks, fake Graph API) and on the web chat (long-poll).

Guardianes runs as in production, `uvicorn guardianes.app:create_app` in its own process
on a scratch SQLite database; N guardians walk the Telegram benchmark's script at machine
speed (see `bench._chat_loads`). Measured: updates/s and injection-to-first-reply
p50/p95/p99. Baselines, measured in the same run on the same fakes and client: a bare
FastAPI webhook that checks the signature and answers through the fake Graph API with
httpx, and a bare web chat endpoint that echoes to the long-poll (`bench._baseline_apps`).

Usage: python -m bench.whatsapp_webchat_e2e [--guardians 50 200] [--steps 2]
       [--channels whatsapp webchat]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
from pathlib import Path

from bench._chat_loads import (
    Load,
    MeasuringGraph,
    WebChatChannel,
    WhatsAppChannel,
    calibrate,
    print_losses,
)
from bench._chat_loads import load as run_load
from bench._common import figure, percentile
from bench._served import free_port, guardianes_env, served, uvicorn_command
from tests.fakes.graph_server import WebhookFactory

APP_SECRET = "bench-app-secret"
GUARDIANES_APP = "guardianes.app:create_app"
BASELINES = {
    "whatsapp": ("bench._baseline_apps:whatsapp_echo", "FastAPI+httpx echo webhook"),
    "webchat": ("bench._baseline_apps:webchat_echo", "FastAPI echo long-poll"),
}


def whatsapp_env(graph: MeasuringGraph) -> dict[str, str]:
    """What turns WhatsApp on against the fake Graph API."""
    return {
        "WHATSAPP_TOKEN": graph.token,
        "WHATSAPP_PHONE_NUMBER_ID": graph.phone_number_id,
        "WHATSAPP_APP_SECRET": APP_SECRET,
        "WHATSAPP_API_BASE": graph.base_url,
    }


async def measure_whatsapp(which: str, guardians: int, steps: int, folder: Path) -> Load:
    """One load on WhatsApp against Guardianes or the echo webhook, on a fresh fake."""
    graph = MeasuringGraph()
    await graph.start()
    port = free_port()
    if which == "echo":
        command = uvicorn_command(BASELINES["whatsapp"][0], port)
        env = {
            **os.environ,
            "BENCH_ECHO_APP_SECRET": APP_SECRET,
            "BENCH_ECHO_GRAPH_BASE": graph.base_url,
            "BENCH_ECHO_PHONE_ID": graph.phone_number_id,
            "BENCH_ECHO_TOKEN": graph.token,
        }
    else:
        command = uvicorn_command(GUARDIANES_APP, port)
        env = guardianes_env(folder, **whatsapp_env(graph))
    factory = WebhookFactory(app_secret=APP_SECRET, phone_number_id=graph.phone_number_id)
    try:
        async with served(command, port, env, log=folder / f"{which}.log") as server:
            channel = WhatsAppChannel(graph, server.base_url, factory)
            try:
                counts = await calibrate(channel, steps)
                return await run_load(channel, guardians, counts)
            finally:
                await channel.close()
    finally:
        await graph.stop()


async def measure_webchat(which: str, guardians: int, steps: int, folder: Path) -> Load:
    """One load on the web chat against Guardianes or the echo endpoint."""
    port = free_port()
    if which == "echo":
        command, env = uvicorn_command(BASELINES["webchat"][0], port), dict(os.environ)
    else:
        command, env = uvicorn_command(GUARDIANES_APP, port), guardianes_env(folder)
    async with served(command, port, env, log=folder / f"{which}.log") as server:
        channel = WebChatChannel(server.base_url)
        try:
            counts = await calibrate(channel, steps)
            return await run_load(channel, guardians, counts)
        finally:
            await channel.close()


def report(label: str, ours: Load, echo: Load | None, baseline_name: str, p95: str) -> None:
    """One load's figures beside the echo's."""
    figure(
        f"{label}: updates/s",
        ours.rate,
        "updates/s",
        baseline=echo.rate if echo else None,
        baseline_name=baseline_name if echo else "",
        target="≥ 0.9× echo" if echo else "",
    )
    for name, fraction in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99)):
        figure(
            f"{label}: first reply {name}",
            1000 * percentile(ours.latencies, fraction),
            "ms",
            baseline=1000 * percentile(echo.latencies, fraction) if echo else None,
            baseline_name=baseline_name if echo else "",
            target=p95 if name == "p95" else "",
        )
    figure(f"{label}: updates without a reply", ours.lost, "", target="0")
    print_losses(label, ours)


async def run(channels: list[str], guardians: list[int], steps: int, with_echo: bool) -> None:
    """Every channel and load, the echo first, each on a fresh server and database."""
    measures = {"whatsapp": measure_whatsapp, "webchat": measure_webchat}
    names = {"whatsapp": "WhatsApp webhook", "webchat": "web chat"}
    for channel in channels:
        for count in guardians:
            with tempfile.TemporaryDirectory() as folder:
                echo = None
                if with_echo:
                    echo = await measures[channel]("echo", count, steps, Path(folder))
                ours = await measures[channel]("guardianes", count, steps, Path(folder))
            report(
                f"{names[channel]}, {count} guardians, SQLite",
                ours,
                echo,
                BASELINES[channel][1],
                "< 100 ms" if count <= 50 else "< 250 ms",
            )


def main() -> None:
    """Parse arguments and run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--guardians", type=int, nargs="+", default=[50, 200])
    parser.add_argument("--steps", type=int, default=2, help="script steps (≤ 10)")
    parser.add_argument(
        "--channels", nargs="+", choices=("whatsapp", "webchat"), default=["whatsapp", "webchat"]
    )
    parser.add_argument("--no-echo", action="store_true", help="skip the baselines")
    args = parser.parse_args()
    asyncio.run(run(args.channels, args.guardians, args.steps, not args.no_echo))


if __name__ == "__main__":
    main()
