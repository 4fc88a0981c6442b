"""drf-spectacular hooks."""

SLASHED = ("/api/assets/",)  # the contract writes these with a slash, every other route without


def drop_slash_twins(endpoints):
    """Routes accept an optional trailing slash; document each once, as the contract writes it."""
    documented: dict[tuple[str, str], tuple[str, str, str, object]] = {}
    for path, path_regex, method, callback in endpoints:
        if path not in SLASHED:
            path = path.rstrip("/")
        documented.setdefault((path, method), (path, path_regex, method, callback))
    return list(documented.values())
