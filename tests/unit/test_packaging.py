"""The wheel carries every file the apps read at run time. A template left out of ``package-data`` works in
this checkout and fails only in a host that installed the wheel (the share page's 500 that the host check
found); this says so in seconds instead."""

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _packaged(config: dict, package: str) -> set[Path]:
    base = ROOT / package
    globs = config["tool"]["setuptools"].get("package-data", {}).get(package, [])
    return {path for pattern in globs for path in base.glob(pattern) if path.is_file()}


def test_every_data_file_of_the_apps_is_in_the_wheel() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    missing = []
    for package in ("image_to_video", "assets", "tenancy"):
        excluded = config["tool"]["setuptools"].get("exclude-package-data", {}).get(package, [])
        leave_out = {path for pattern in excluded for path in (ROOT / package).glob(pattern)}
        data = {
            path
            for path in (ROOT / package).rglob("*")
            if path.is_file() and path.suffix not in {".py", ".pyc"} and "__pycache__" not in path.parts
        }
        missing += sorted(str(p.relative_to(ROOT)) for p in data - leave_out - _packaged(config, package))
    assert not missing, f"not in [tool.setuptools.package-data]: {missing}"
