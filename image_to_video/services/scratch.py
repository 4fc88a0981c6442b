"""This process's scratch space under UPLOAD_DIR, and the hand-offs to the shared storage.

Hosts share nothing but the database, the broker and the storage: a worker copies
the job's source out of the storage into its own scratch space, renders there, and
puts the finished video in the storage itself. Nothing here is ever read by
another process, so a crashed worker leaves at most stale files, which
:func:`sweep` removes.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from pathlib import Path

from django.core.files import File

from assets.storage import files_storage

from ..conf import get_config
from ..models import Job

log = logging.getLogger(__name__)
STALE_SOURCE_SECONDS = 600  # a source is read once, at the start of a render
STALE_RENDER_SECONDS = 24 * 3600  # a video waiting for storage to come back


class StorageUnavailable(Exception):
    """The shared storage did not answer (S3 down, bucket gone, no rights)."""


def scratch_dir(kind: str) -> Path:
    path = Path(get_config().UPLOAD_DIR) / kind
    path.mkdir(parents=True, exist_ok=True)
    return path


def render_path(job: Job) -> Path:
    """Where this process writes the job's video (the engine writes ``.partial-*`` beside it first)."""
    return scratch_dir("renders") / f"{job.pk}.{job.output_format}"


def video_name(job: Job) -> str:
    """The video's key in the shared storage; the asset library files it under the same key."""
    return f"clients/{job.client_id}/videos/{job.pk}.{job.output_format}"


def fetch_source(job: Job) -> Path:
    """Copy the job's source image out of the shared storage into this process's scratch space."""
    name = job.source_image.name or ""
    local = scratch_dir("sources") / f"{job.pk}{Path(name).suffix}"
    try:
        with files_storage.open(name, "rb") as src, local.open("wb") as out:
            shutil.copyfileobj(src, out, 1024 * 1024)
    except Exception as exc:
        local.unlink(missing_ok=True)
        if isinstance(exc, FileNotFoundError) or _is_missing_key(exc):
            raise FileNotFoundError(name) from exc
        raise StorageUnavailable(f"the source image could not be read from storage ({type(exc).__name__})") from exc
    return local


def _is_missing_key(exc: Exception) -> bool:
    """S3 says the object is not there (as opposed to not answering)."""
    code = getattr(exc, "response", {}).get("Error", {}).get("Code", "")
    return code in ("NoSuchKey", "404", "NotFound")


def store_video(job: Job, path: Path) -> str:
    """Put a finished video in the shared storage under :func:`video_name`; returns the name."""
    name = video_name(job)
    try:
        if files_storage.exists(name):
            files_storage.delete(name)  # a leftover of an interrupted attempt: the name must stay as planned
        with path.open("rb") as fh:
            stored = files_storage.save(name, File(fh, name=path.name))
    except Exception as exc:
        raise StorageUnavailable(f"the video could not be stored ({type(exc).__name__}: {exc})") from exc
    return stored


def delete_stored(name: str) -> None:
    try:
        files_storage.delete(name)
    except Exception:  # an orphan costs bytes, never correctness
        log.warning("could not delete %s from storage", name, exc_info=True)


def stored_video_exists(name: str) -> bool:
    try:
        return bool(name) and files_storage.exists(name)
    except Exception as exc:
        raise StorageUnavailable(f"storage did not answer ({type(exc).__name__})") from exc


def _writer_is_dead(partial_name: str) -> bool:
    """``.partial-<pid>-…``: true when that process no longer runs on this host."""
    try:
        pid = int(partial_name.split("-")[1])
        os.kill(pid, 0)
    except (ValueError, IndexError):
        return False  # not ours to judge: the age rule decides
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def sweep(*, now: float | None = None) -> int:
    """Delete what crashed renders left here: stale ``.partial-*`` files, old sources and renders."""
    now = time.time() if now is None else now
    removed = 0
    root = Path(get_config().UPLOAD_DIR)
    for kind in ("renders", "sources"):
        folder = root / kind
        if not folder.is_dir():
            continue
        for path in folder.iterdir():
            try:
                age = now - path.stat().st_mtime
            except FileNotFoundError:
                continue
            if path.name.startswith(".partial-"):
                limit = 0 if _writer_is_dead(path.name) else get_config().SCRATCH_STALE_PARTIAL_SECONDS
            else:
                limit = STALE_SOURCE_SECONDS if kind == "sources" else STALE_RENDER_SECONDS
            if path.is_file() and age > limit:
                path.unlink(missing_ok=True)
                removed += 1
    if removed:
        log.info("removed %d stale scratch file(s) from %s", removed, root)
    return removed
