"""What matters in a photo: faces first, else the most salient region, else nothing.

Faces come from OpenCV's frontal-face Haar cascade, which ships inside the
``opencv-python-headless`` 4.x wheel (Intel's licence, redistributable; 5.x
dropped it): nothing is downloaded. Saliency is frequency-tuned (Achanta et
al., 2009) on a 64 px thumbnail: how far each point's colour is from the
photo's mean, in Lab. (The spectral residual was tried and found the edges of
a coloured object on a texture but not the object.) Its confidence is how much
of the saliency the region holds beyond its share of the area; a texture with
nothing in particular scores near zero.

Both run on a copy of at most :data:`DETECT_SIDE` px on the long side, a few
tens of milliseconds per photo.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import cv2
import numpy as np

DETECT_SIDE = 480
SALIENCY_SIDE = 64
SALIENCY_THRESHOLD = 2.0  # times the mean saliency
MIN_SALIENCY_CONFIDENCE = 0.3
FACE_PAD = 0.35  # of the face's size on each side: hair, chin, a little shoulder


@dataclass(frozen=True)
class Subject:
    method: str  # "face" | "saliency" | "none"
    box: tuple[float, float, float, float] | None = None  # x0, y0, x1, y1 as fractions of the photo
    confidence: float = 0.0

    @property
    def centre(self) -> tuple[float, float] | None:
        if self.box is None:
            return None
        x0, y0, x1, y1 = self.box
        return (x0 + x1) / 2, (y0 + y1) / 2


_per_thread = threading.local()


def _face_cascade() -> cv2.CascadeClassifier:
    """This thread's own classifier: ``detectMultiScale`` keeps scratch state in it and is not thread-safe
    (threads sharing one failed with ``vector::_M_range_check``), so each render thread loads its own once."""
    cascade = getattr(_per_thread, "face_cascade", None)
    if cascade is None:
        cascade = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")  # type: ignore[attr-defined]
        if cascade.empty():
            raise RuntimeError("OpenCV's face cascade is missing from the installed wheel")
        _per_thread.face_cascade = cascade
    return cascade


def detect_subject(rgb: np.ndarray) -> Subject:
    """The subject of an RGB photo, as a box in photo fractions with a confidence."""
    h, w = rgb.shape[:2]
    scale = min(1.0, DETECT_SIDE / max(w, h))
    small = cv2.resize(rgb, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    grey = cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)
    return _faces(grey) or _salient_region(small) or Subject("none")


def _faces(grey: np.ndarray) -> Subject | None:
    h, w = grey.shape
    side = min(w, h)
    if side < 48:
        return None
    found = _face_cascade().detectMultiScale(
        cv2.equalizeHist(grey), scaleFactor=1.1, minNeighbors=6, minSize=(max(24, side // 12),) * 2
    )
    if len(found) == 0:
        return None
    boxes = np.asarray(found, dtype=np.float64)
    # The largest face and those at least half its size: background faces are not the subject.
    sizes = boxes[:, 2] * boxes[:, 3]
    boxes = boxes[sizes >= sizes.max() / 4]
    x0 = (boxes[:, 0] - FACE_PAD * boxes[:, 2]).min()
    y0 = (boxes[:, 1] - FACE_PAD * boxes[:, 3]).min()
    x1 = (boxes[:, 0] + (1 + FACE_PAD) * boxes[:, 2]).max()
    y1 = (boxes[:, 1] + (1 + FACE_PAD) * boxes[:, 3]).max()
    box = (max(0.0, float(x0) / w), max(0.0, float(y0) / h), min(1.0, float(x1) / w), min(1.0, float(y1) / h))
    return Subject("face", box, 1.0)


def saliency_map(rgb: np.ndarray) -> np.ndarray:
    """Frequency-tuned saliency of an RGB image at :data:`SALIENCY_SIDE` px, summing to 1.

    Each point's squared Lab distance from the photo's mean colour, after a
    light blur: what stands out in colour or brightness from the whole.
    """
    h, w = rgb.shape[:2]
    scale = SALIENCY_SIDE / max(w, h)
    size = (max(8, round(w * scale)), max(8, round(h * scale)))
    thumb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    lab = cv2.GaussianBlur(cv2.cvtColor(thumb, cv2.COLOR_RGB2LAB).astype(np.float32), (0, 0), sigmaX=1.0)
    salient = ((lab - lab.reshape(-1, 3).mean(axis=0)) ** 2).sum(axis=2)
    total = float(salient.sum())
    return salient / total if total > 0 else np.full_like(salient, 1.0 / salient.size)


def _salient_region(rgb: np.ndarray) -> Subject | None:
    smap = saliency_map(rgb)
    mask = (smap >= SALIENCY_THRESHOLD * smap.mean()).astype(np.uint8)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if count <= 1:
        return None
    # The component holding the most saliency, with any others holding at least half as much.
    mass = np.bincount(labels.ravel(), weights=smap.ravel(), minlength=count)[1:]
    keep = np.flatnonzero(mass >= mass.max() / 2)
    x0 = stats[keep + 1, cv2.CC_STAT_LEFT].min()
    y0 = stats[keep + 1, cv2.CC_STAT_TOP].min()
    x1 = (stats[keep + 1, cv2.CC_STAT_LEFT] + stats[keep + 1, cv2.CC_STAT_WIDTH]).max()
    y1 = (stats[keep + 1, cv2.CC_STAT_TOP] + stats[keep + 1, cv2.CC_STAT_HEIGHT]).max()
    sh, sw = smap.shape
    inside = float(smap[y0:y1, x0:x1].sum())
    area = (x1 - x0) * (y1 - y0) / (sw * sh)
    confidence = max(0.0, min(1.0, (inside - area) / max(1e-6, 1.0 - area)))
    if confidence < MIN_SALIENCY_CONFIDENCE:
        return None
    box = (float(x0) / sw, float(y0) / sh, float(x1) / sw, float(y1) / sh)
    return Subject("saliency", box, round(float(confidence), 3))
