"""The registry: every channel is one plugin, built from settings, with its caps and policy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from guardianes.bot.registry import PLUGINS, channel_pacing
from guardianes.bot.whatsapp.plugin import WindowPolicy
from guardianes.config import Settings
from guardianes.runtime.channels import channel_routers, register_policies
from guardianes.services.delivery import ChannelName, PacerSpec, policy_for

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def _settings(tmp_path: Path, **platform: object) -> Settings:
    values: dict[str, object] = {
        "database_url": f"sqlite+aiosqlite:///{tmp_path / 'app.db'}",
        "telegram_bot_token": None,
        "whatsapp_token": None,
        "whatsapp_phone_number_id": None,
    }
    return Settings(_env_file=None, **(values | platform))  # type: ignore[call-arg, arg-type]


def test_every_channel_has_exactly_one_plugin() -> None:
    assert sorted(p.name for p in PLUGINS) == sorted(c.value for c in ChannelName)


def test_without_platform_settings_only_the_web_chat_builds(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    built = [p.name for p in PLUGINS if p.from_settings(settings) is not None]
    assert built == ["webchat"]


def test_a_bot_token_builds_telegram(tmp_path: Path) -> None:
    settings = _settings(tmp_path, telegram_bot_token="123456:ABCdef")
    assert any(p.name == "telegram" and p.from_settings(settings) for p in PLUGINS)


def test_platform_caps_come_from_settings_one_budget_per_bot(tmp_path: Path) -> None:
    settings = _settings(
        tmp_path,
        telegram_bot_token="123456:ABCdef",
        telegram_rate_per_second=20.0,
        whatsapp_phone_number_id="777",
    )
    assert channel_pacing(settings) == {
        "telegram": PacerSpec("telegram:123456", 20.0, per_chat_rate=1.0),
        "whatsapp": PacerSpec("whatsapp:777", 80.0),
    }


def test_the_inbound_routes_are_the_plugins() -> None:
    paths = {route.path for router in channel_routers() for route in router.routes}  # type: ignore[attr-defined]
    assert {"/webhooks/telegram", "/webhooks/whatsapp", "/chat/api/messages"} <= paths


def test_whatsapp_needs_a_template_outside_the_24_hour_window() -> None:
    policy = WindowPolicy()
    assert not policy.needs_template(NOW - timedelta(hours=23), NOW)
    assert policy.needs_template(NOW - timedelta(hours=24), NOW)
    assert policy.needs_template(None, NOW)


def test_the_services_see_each_channels_policy_once_registered() -> None:
    register_policies()
    assert policy_for("whatsapp").needs_template(None, NOW)
    assert not policy_for("telegram").needs_template(None, NOW)
    assert not policy_for("unknown").needs_template(None, NOW)
