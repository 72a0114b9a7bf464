"""Background processes.

    python worker.py              an RQ worker for the portal queue (run as many as needed)
    python worker.py scheduler    rq-scheduler: registers the periodic jobs, then enqueues them
                                  on time (run exactly one)

Both use REDIS_URL, or (development only) an embedded Redis; `make demo` starts one embedded
Redis and passes its URL to every process.
"""

from __future__ import annotations

import sys
import warnings

USAGE = "usage: python worker.py [scheduler]"


def main(argv: list[str]) -> int:
    # crontab (used by rq-scheduler) warns that a future release changes its default timezone;
    # the warning is attributed to its caller, rq_scheduler.utils. Mute exactly that one.
    warnings.filterwarnings(
        "ignore",
        message=r"Version 0\.22\.0\+ of crontab",
        category=FutureWarning,
        module=r"rq_scheduler\.utils",
    )

    if argv not in ([], ["worker"], ["scheduler"]):
        print(USAGE, file=sys.stderr)
        return 2

    import logging

    from portal import create_app
    from portal.jobs import set_job_app

    # Flask-Migrate's alembic import logs its plugin set-up at INFO: noise in a worker's log.
    logging.getLogger("alembic").setLevel(logging.WARNING)

    app = create_app()
    set_job_app(app)
    if not app.config.get("REDIS_URL"):
        print("warning: REDIS_URL is not set, so this process uses a private embedded Redis "
              "that no other process can see; set REDIS_URL (make demo does)", file=sys.stderr)
    if argv == ["scheduler"]:
        from portal.jobs.schedule import run_scheduler

        run_scheduler(app)
        return 0

    from portal.jobs.worker_setup import run_worker

    run_worker(app)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
