"""Every write, split by concern (HackSoft's "services as a package").

- :mod:`.lifecycle`: the one writer of job rows (create, start, lease, progress, provider task and status,
  framing, result claim, complete, fail, fall back, requeue, cancel, video, asset, source)
- :mod:`.jobs`: create, queue, cancel, retry: deciding, then calling the lifecycle
- :mod:`.runs`: the worker's part (start a job, hand it to its provider)
- :mod:`.provider_updates`: polling a provider's task and applying its updates
- :mod:`.webhook_events`: inbound deliveries, stored then applied
- :mod:`.videos`: a finished video into the shared storage, or made again
- :mod:`.scratch`: this process's scratch files, and the storage hand-offs
- :mod:`.maintenance`: recovery (leases, the outbox), sweeps and pruning
- :mod:`.outbound`: webhooks to integrators: recorded, signed, retried
"""

from .jobs import (
    ClientBusy,
    IdempotencyConflict,
    JobNotCancelable,
    JobNotRetryable,
    SourceImage,
    batch_create,
    job_cancel,
    job_create,
    job_retry,
    queue_run,
    request_fingerprint,
)
from .lifecycle import job_complete, job_fail, job_set_progress, job_start, transition
from .maintenance import job_sources_prune, jobs_recover
from .outbound import client_secret_rotate, delivery_redeliver
from .provider_updates import job_apply_provider_update, job_poll, poll_interval, schedule_poll
from .runs import ProgressReporter, job_run, run_next_job
from .scratch import StorageUnavailable, render_path
from .webhook_events import webhook_event_process, webhook_event_record, webhook_events_retry

__all__ = [
    "client_secret_rotate",
    "delivery_redeliver",
    "batch_create",
    "IdempotencyConflict",
    "JobNotCancelable",
    "JobNotRetryable",
    "ProgressReporter",
    "SourceImage",
    "StorageUnavailable",
    "ClientBusy",
    "job_apply_provider_update",
    "job_cancel",
    "job_complete",
    "job_create",
    "job_fail",
    "job_poll",
    "job_retry",
    "job_run",
    "run_next_job",
    "job_set_progress",
    "job_sources_prune",
    "job_start",
    "jobs_recover",
    "poll_interval",
    "queue_run",
    "render_path",
    "request_fingerprint",
    "schedule_poll",
    "transition",
    "webhook_event_process",
    "webhook_event_record",
    "webhook_events_retry",
]
