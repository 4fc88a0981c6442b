import pytest

from tests.service.runway_fixtures import runway, runway_video, webhook_secret  # noqa: F401  (fixtures)


@pytest.fixture
def local_files(settings, tmp_path):
    """The apps' private local files (no STORAGES["image_to_video"]), as in a host without S3."""
    settings.STORAGES = {k: v for k, v in settings.STORAGES.items() if k != "image_to_video"}
    settings.IMAGE_TO_VIDEO = {**settings.IMAGE_TO_VIDEO, "FILES_ROOT": tmp_path / "files"}
    settings.MEDIA_ROOT = tmp_path / "media"
    yield tmp_path
    settings.STORAGES = {**settings.STORAGES}  # the lazy storage is rebuilt for the next test
