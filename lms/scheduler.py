"""The scheduled jobs (APScheduler 3): the reminder sweep every hour, outbox delivery every minute, a
signed checkpoint of the sign-off ledger's head every day, and every night the pruning of what is
over (login sessions, tokens of forms sent long ago, expired API idempotency keys).

Only the dedicated process started with ``flask --app wsgi lms scheduler`` runs them; web workers
(gunicorn) never start a scheduler. Each job pushes an application context, calls one service and
commits; a job that fails rolls back, logs, and runs again at its next time. The jobs are safe to run
in two processes at once (see ``lms.services.reminders`` and ``lms.services.outbox``), so a second
scheduler, or one restarted mid-run, does no harm.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from flask import Flask

from lms import clock
from lms.extensions import db

log = logging.getLogger(__name__)

REMINDER_JOB_ID = "reminder-sweep"
OUTBOX_JOB_ID = "outbox-delivery"
LEDGER_JOB_ID = "ledger-checkpoint"
NIGHTLY_PRUNE_JOB_ID = "nightly-prune"


def run_reminder_sweep(app: Flask) -> Any:
    """One reminder sweep in its own application context and transaction."""
    from lms.services.reminders import sweep

    with app.app_context():
        try:
            report = sweep(clock.now())
            db.session.commit()
        except Exception:
            db.session.rollback()
            log.exception("Reminder sweep failed; it runs again at the next hour.")
            raise
        log.info("Reminder sweep: %s", report.describe())
        return report


def run_outbox_delivery(app: Flask) -> Any:
    """Deliver what is due in the outbox (the service commits each outcome)."""
    from lms.services.outbox import deliver_outbox

    with app.app_context():
        try:
            report = deliver_outbox(clock.now())
        except Exception:
            db.session.rollback()
            log.exception("Outbox delivery failed; it runs again in a minute.")
            raise
        if report.sent or report.retrying or report.failed:
            log.info("Outbox delivery: %s", report.describe())
        return report


def run_ledger_checkpoint(app: Flask) -> Any:
    """Sign a checkpoint of the ledger's head (once a day; a second run that day writes nothing)."""
    from lms.services.signoff import daily_checkpoint

    with app.app_context():
        try:
            checkpoint = daily_checkpoint(clock.now())
            db.session.commit()
        except Exception:
            db.session.rollback()
            log.exception("Ledger checkpoint failed; it runs again tomorrow.")
            raise
        if checkpoint is not None:
            log.info("Ledger checkpoint: %d records signed.", checkpoint.record_count)
        return checkpoint


def _prunings() -> tuple[tuple[str, Callable[[datetime], int]], ...]:
    """What the nightly job forgets: each table's own rule (how long a row is kept) lives in its
    service."""
    from lms.services import form_submissions, idempotency_keys, login_sessions, reminders

    return (
        ("login sessions", login_sessions.prune),
        ("form submissions", form_submissions.prune),
        # Stored API answers hold names and addresses: all expired ones go, not one batch.
        ("API idempotency keys", lambda at: idempotency_keys.prune(at, limit=None)),
        ("reminder sweeps", reminders.prune_sweeps),
    )


def run_nightly_prune(app: Flask) -> dict[str, int]:
    """Delete rows that are over: login sessions, tokens of forms sent long ago, expired API
    idempotency keys, reminder sweeps of over a month ago. Each in its own transaction, so one that fails does not keep the others; the
    job fails (and is logged) when any did, and runs again the next night."""
    deleted: dict[str, int] = {}
    failed: list[str] = []
    with app.app_context():
        for what, prune in _prunings():
            try:
                deleted[what] = int(prune(clock.now()))
                db.session.commit()
            except Exception:
                db.session.rollback()
                log.exception("Pruning %s failed; it runs again tomorrow night.", what)
                failed.append(what)
                continue
            log.info("%s pruned: %d", what.capitalize(), deleted[what])
    if failed:
        raise RuntimeError("Nightly pruning failed for: " + ", ".join(failed))
    return deleted


def add_jobs(scheduler: BaseScheduler, app: Flask, *, deliver_now: bool = False) -> None:
    """Register the jobs with fixed ids (``replace_existing``), at most one run of each at a time.
    ``deliver_now``: the first outbox delivery at once rather than after a minute."""
    outbox_start = {"next_run_time": clock.now()} if deliver_now else {}
    common = {"args": [app], "replace_existing": True, "max_instances": 1, "coalesce": True}
    scheduler.add_job(
        run_reminder_sweep,
        CronTrigger(minute=5, timezone=clock.LOCAL_TZ),  # every hour at :05
        id=REMINDER_JOB_ID,
        name="Reminder sweep (hourly)",
        misfire_grace_time=30 * 60,
        **common,
    )
    scheduler.add_job(
        run_outbox_delivery,
        IntervalTrigger(minutes=1, timezone=clock.LOCAL_TZ),
        id=OUTBOX_JOB_ID,
        name="Outbox delivery (every minute)",
        misfire_grace_time=60,
        **outbox_start,
        **common,
    )
    scheduler.add_job(
        run_ledger_checkpoint,
        CronTrigger(hour=3, minute=15, timezone=clock.LOCAL_TZ),  # every night
        id=LEDGER_JOB_ID,
        name="Ledger checkpoint (daily)",
        misfire_grace_time=12 * 60 * 60,
        **common,
    )
    scheduler.add_job(
        run_nightly_prune,
        CronTrigger(hour=3, minute=20, timezone=clock.LOCAL_TZ),  # every night at 03:20
        id=NIGHTLY_PRUNE_JOB_ID,
        name="Pruning of sessions, form tokens and API keys (nightly)",
        misfire_grace_time=6 * 3600,
        **common,
    )


def create_scheduler(
    app: Flask, *, blocking: bool = True, deliver_now: bool = False
) -> BaseScheduler:
    """A scheduler with the jobs, not started. ``blocking`` for the dedicated process; a background
    one for tests."""
    cls = BlockingScheduler if blocking else BackgroundScheduler
    scheduler = cls(timezone=clock.LOCAL_TZ)
    add_jobs(scheduler, app, deliver_now=deliver_now)
    return scheduler


def run_forever(app: Flask) -> None:
    """The scheduler process: deliver what is waiting at once, then run the jobs until stopped."""
    scheduler = create_scheduler(app, blocking=True, deliver_now=True)
    log.info("Scheduler started: %s", ", ".join(job.name for job in scheduler.get_jobs()))
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        log.info("Scheduler stopped.")
