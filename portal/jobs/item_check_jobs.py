"""RQ entry point for the Customizations QuickBooks check (I1), and the one way to enqueue it.

Views never call QBO (DESIGN §1): the Customizations page reads only the answers
``portal.qbo.sync.items`` cached in Redis, and when they are missing it calls
``enqueue_item_check``. The job asks QBO (one Item query for every code of the firm), which
fills that cache; the page's script polls ``/customizations/qbo-check`` and reloads when the
answers are there. Repeated page loads coalesce into the one job already waiting (fixed job id).

Thin on purpose (STYLE 5): ids in, app context, one call into ``portal.qbo.sync.items``, and a
raise on failure, after recording it briefly in Redis so the page says "could not check"
instead of asking again on every reload.
"""

from __future__ import annotations

import logging

from flask import current_app
from redis.exceptions import RedisError
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from portal.jobs import job_context, kv
from portal.jobs.queue import get_queue
from portal.redis_conn import get_redis

log = logging.getLogger("portal.jobs")

JOB_TIMEOUT = 60  # one query (or a few for very many codes); the page gives up after ~60 s
FAILURE_SECONDS = 60  # how long the page shows "could not check" before it asks again
# A background job can wait a little longer than a page could, but it must still answer well
# within the page's polling window, so one attempt and short timeouts.
JOB_QBO_CONFIG = {"QBO_MAX_ATTEMPTS": 1, "QBO_CONNECT_TIMEOUT": 5.0, "QBO_HTTP_TIMEOUT": 15.0}
WAITING = {JobStatus.QUEUED, JobStatus.STARTED, JobStatus.DEFERRED, JobStatus.SCHEDULED}


def job_id(firm_id: int) -> str:
    """One id per firm (RQ forbids ':' in ids): a second page load finds the first job."""
    return f"item-check-{firm_id}"


def failure_key(firm_id: int) -> str:
    return f"portal:qbo:item-check-failed:{firm_id}"


def waiting_job(firm_id: int) -> Job | None:
    """The firm's check job while it is queued or running, else None."""
    try:
        job = Job.fetch(job_id(firm_id), connection=get_redis())
    except NoSuchJobError:
        return None
    return job if job.get_status(refresh=False) in WAITING else None


def job_failed(firm_id: int) -> bool:
    """True when the firm's last check job ended in RQ's failed state (killed, timed out)."""
    try:
        job = Job.fetch(job_id(firm_id), connection=get_redis())
    except NoSuchJobError:
        return False
    return job.get_status(refresh=False) in {JobStatus.FAILED, JobStatus.STOPPED}


def enqueue_item_check(firm_id: int) -> bool:
    """Queue the firm's check unless one is queued or running; True when newly queued.

    Redis trouble is logged and swallowed: the page then says it could not check.
    """
    try:
        if waiting_job(firm_id) is not None:
            return False
        get_queue().enqueue(
            refresh_item_check, firm_id, job_id=job_id(firm_id), job_timeout=JOB_TIMEOUT,
            result_ttl=JOB_TIMEOUT, failure_ttl=FAILURE_SECONDS,
            description=f"item check firm={firm_id}",
        )
    except RedisError as exc:
        log.warning(kv(job="item_check", firm=firm_id, state="enqueue_failed",
                       error=type(exc).__name__))
        return False
    log.info(kv(job="item_check", firm=firm_id, state="queued"))
    return True


def recorded_failure(firm_id: int) -> str | None:
    """The message of the firm's last failed check, while it is recent (FAILURE_SECONDS)."""
    try:
        value = get_redis().get(failure_key(firm_id))
    except RedisError:
        return None
    if value is None:
        return None
    return value.decode() if isinstance(value, bytes) else str(value)


def _record_failure(firm_id: int, message: str) -> None:
    try:
        get_redis().set(failure_key(firm_id), message, ex=FAILURE_SECONDS)
    except RedisError:
        log.warning(kv(job="item_check", firm=firm_id, state="record_failure_failed"))


def refresh_item_check(firm_id: int) -> int:
    """Ask QBO about every code of the firm (answers land in the items cache); returns the
    number of codes answered. Raises on failure, after recording it for the page."""
    from portal.customizations.qbo_check import firm_codes
    from portal.qbo.client import QboClient
    from portal.qbo.errors import QboError
    from portal.qbo.sync.items import lookup_items

    with job_context():
        get_redis().delete(failure_key(firm_id))
        codes = firm_codes(firm_id)
        try:
            config = {**current_app.config, **JOB_QBO_CONFIG}
            with QboClient(firm_id, app_config=config) as qbo:
                answers = lookup_items(qbo, firm_id, codes)
        except QboError as exc:
            _record_failure(firm_id, exc.message)
            log.warning(kv(job="item_check", firm=firm_id, state="failed",
                           error=type(exc).__name__))
            raise
        except Exception as exc:
            _record_failure(firm_id, "an unexpected error")
            log.exception(kv(job="item_check", firm=firm_id, state="failed",
                             error=type(exc).__name__))
            raise
        log.info(kv(job="item_check", firm=firm_id, state="done", codes=len(answers)))
        return len(answers)
