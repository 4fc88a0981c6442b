import numpy as np
import pytest
from PIL import Image


def textured(width: int, height: int, seed: int = 1, low: int = 70, high: int = 190) -> Image.Image:
    """Smooth random texture in [low, high]: trackable by phase correlation, never black."""
    rng = np.random.default_rng(seed)
    coarse = rng.uniform(low, high, (max(2, height // 8), max(2, width // 8), 3)).astype(np.float32)
    import cv2

    smooth = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_CUBIC)
    return Image.fromarray(np.clip(smooth, low, high).astype(np.uint8))


@pytest.fixture
def photo(tmp_path):
    path = tmp_path / "photo.png"
    textured(400, 300).save(path)
    return path


@pytest.fixture
def make_image(tmp_path):
    def make(image: Image.Image, name: str = "image.png", **save) -> str:
        path = tmp_path / name
        image.save(path, **save)
        return str(path)

    return make
