"""Building and starting the service's parts; used by the app lifespan, the CLI and tests."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from guardianes.config import Settings
from guardianes.conversations.catalog import FormCatalog
from guardianes.conversations.course import DEFAULT_COURSE_DIR, CourseError, load_course
from guardianes.conversations.obligations import obligation_rules
from guardianes.domain.enums import FormKind
from guardianes.domain.timezone import zone
from guardianes.geo.loader import load_city_gazetteers
from guardianes.runtime.channels import register_policies, start_channels
from guardianes.runtime.sample import load_sample_data
from guardianes.scheduler.email import start_email_loop
from guardianes.scheduler.evidence import start_overdue_watch
from guardianes.scheduler.outbox import OutboxSender
from guardianes.scheduler.privacy import start_privacy_job
from guardianes.scheduler.reminders import start_reminder_scheduler
from guardianes.scheduler.sweeps import start_sweeps
from guardianes.services.effects import FormDescription
from guardianes.services.inbound import recover_unprocessed
from guardianes.services.privacy import PrivacyService
from guardianes.services.runtime import Runtime, reload_gazetteer
from guardianes.services.staff_chat import StaffChatHandler
from guardianes.storage.db import (
    create_engine,
    create_session_factory,
    ensure_schema,
    unit_of_work,
)
from guardianes.storage.repositories.guardians import list_colonias

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CatalogFormDescriber:
    """Describes forms for storage from the loaded catalog."""

    catalog: FormCatalog

    def describe(self, form_id: str) -> FormDescription:
        """Kind, title, service and file of an installed form."""
        form = self.catalog.get(form_id)
        if form is None:
            return FormDescription(FormKind.CARD, form_id, None, None)
        return FormDescription(
            kind=FormKind(form.kind.value),
            title=form.title,
            service_code=form.service,
            source_file=Path(form.source).name,
            obligation_rules=obligation_rules(form),
        )


def with_course(catalog: FormCatalog, course_dir: Path | None) -> FormCatalog:
    """The catalog with the course loaded; a refused course is logged and left out, so the
    bot still runs (quizzes work without lessons)."""
    folder = course_dir or DEFAULT_COURSE_DIR
    try:
        course = load_course(folder)
    except CourseError as error:
        for problem in error.problems:
            logger.error("course refused: %s", problem)
        return catalog
    if catalog.get(course.quiz_form_id) is None:
        logger.error(
            "course %s names the quiz %s, which is not installed", folder, course.quiz_form_id
        )
        return catalog
    return replace(catalog, course=course)


async def build_runtime(settings: Settings, *, migrate_sqlite: bool = True) -> Runtime:
    """Open the database (migrating SQLite), load forms and geography."""
    engine = create_engine(settings.database_url, sqlite_threaded=settings.sqlite_threaded)
    try:
        await ensure_schema(engine, migrate_sqlite=migrate_sqlite)
    except BaseException:
        await engine.dispose()
        raise
    sessions = create_session_factory(engine)
    catalog = FormCatalog.load(settings.forms_dir)
    for problem in catalog.problems:
        logger.warning("form refused: %s", problem)
    catalog = with_course(catalog, settings.course_dir)
    async with unit_of_work(sessions) as session:
        gazetteer = await load_city_gazetteers(session, settings.max_space_distance_m)
    register_policies()
    return Runtime(
        settings=settings,
        engine=engine,
        sessions=sessions,
        catalog=catalog,
        forms=CatalogFormDescriber(catalog),
        gazetteer=gazetteer,
        staff_actions=StaffChatHandler(zone(settings.timezone)),
        privacy=PrivacyService(settings.media_dir, catalog, settings.privacy_notice_version),
    )


@dataclass
class Services:
    """What the lifespan started and must stop."""

    runtime: Runtime
    sender: OutboxSender
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    stoppers: list[Any] = field(default_factory=list)


async def load_demo_data_once(runtime: Runtime) -> bool:
    """Load the project's small sample data on the first start of an empty database."""
    async with unit_of_work(runtime.sessions) as session:
        if await list_colonias(session):
            return False
        await load_sample_data(session, settings=runtime.settings)
    await reload_gazetteer(runtime)
    logger.info("sample data loaded")
    return True


async def start_services(settings: Settings, app: FastAPI | None, *, demo: bool) -> Services:
    """Build the runtime and start channels, the outbox sender and the scheduler."""
    runtime = await build_runtime(settings)
    if demo:
        await load_demo_data_once(runtime)
    channel_stoppers = await start_channels(runtime, app)
    # Built after the channels: its pacers follow the caps the started plugins declared.
    services = Services(runtime=runtime, sender=OutboxSender(runtime))
    services.stoppers.extend(channel_stoppers)
    recovered = await recover_unprocessed(runtime)
    if recovered:
        logger.info("processed %d messages left by the previous run", recovered)
    services.sender.start()
    services.stoppers.extend(sweep.stop for sweep in start_sweeps(runtime))
    # Stopped before the channels (stoppers run in reverse): sends under way get recorded.
    services.stoppers.append(
        partial(services.sender.stop, grace=settings.outbox_stop_grace_seconds)
    )
    if settings.scheduler_enabled:
        stopper = await _start_scheduler(runtime)
        if stopper is not None:
            services.stoppers.append(stopper)
    if settings.scheduler_enabled and settings.smtp_enabled:
        services.stoppers.append((await start_email_loop(runtime)).stop)
        logger.info("evidence e-mail running through %s", settings.smtp_host)
    logger.info("channels running: %s", ", ".join(sorted(runtime.channels)) or "none")
    return services


async def stop_services(services: Services) -> None:
    """Stop in reverse order of start, then close the database."""
    for stopper in reversed(services.stoppers):
        try:
            await stopper()
        except Exception:
            logger.exception("stopping %r failed", stopper)
    for task in services.tasks:
        task.cancel()
    await asyncio.gather(*services.tasks, return_exceptions=True)
    await services.runtime.close()


async def _start_scheduler(runtime: Runtime) -> Any:
    handle = await start_reminder_scheduler(runtime)
    privacy_job = await start_privacy_job(runtime)
    watch = await start_overdue_watch(runtime)
    logger.info("scheduler running: reminders, broadcasts, media retention, overdue discrepancies")

    async def stop() -> None:
        await watch.stop()
        await privacy_job.stop()
        await handle.stop()

    return stop
