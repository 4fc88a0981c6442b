"""drf-spectacular hook (opt-in, one line in the host's SPECTACULAR_SETTINGS):
``"PREPROCESSING_HOOKS": ["image_to_video.schema.drop_optional_slash"]``.

The apps' routes take an optional trailing slash (one URL pattern each, so the schema has no
duplicate operationIds with or without this hook); the hook documents them as written, without it.
"""

from __future__ import annotations

from typing import Any


def drop_optional_slash(endpoints: list[tuple[str, str, str, Any]]) -> list[tuple[str, str, str, Any]]:
    documented: dict[tuple[str, str], tuple[str, str, str, Any]] = {}
    for path, path_regex, method, callback in endpoints:
        if path_regex.endswith("/?$"):
            path = path.rstrip("/")
        documented.setdefault((path, method), (path, path_regex, method, callback))
    return list(documented.values())
