"""Decoding helpers for tests: every video a test makes is opened and checked."""

from __future__ import annotations

from dataclasses import dataclass

import av
import numpy as np


@dataclass
class VideoInfo:
    container: str
    codec: str
    pix_fmt: str
    width: int
    height: int
    frames: int
    fps: float
    duration: float


def probe_video(path) -> VideoInfo:
    """Decode every frame (not trusting headers) and report what is really there."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = 0
        last_end = 0.0
        for frame in container.decode(stream):
            frames += 1
            if frame.pts is not None and frame.duration:
                last_end = max(last_end, float((frame.pts + frame.duration) * frame.time_base))
            elif frame.pts is not None:
                last_end = max(last_end, float(frame.pts * frame.time_base))
        rate = stream.average_rate or stream.guessed_rate
        fps = float(rate) if rate else 0.0
        duration = float(container.duration) / 1_000_000 if container.duration else last_end
        return VideoInfo(
            container=container.format.name,
            codec=stream.codec_context.name,
            pix_fmt=stream.codec_context.pix_fmt or "",
            width=stream.codec_context.width,
            height=stream.codec_context.height,
            frames=frames,
            fps=fps,
            duration=duration,
        )


def decode_frames(path, fmt: str = "rgb24") -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [f.to_ndarray(format=fmt) for f in container.decode(video=0)]


def luma(frame_rgb: np.ndarray) -> np.ndarray:
    return (frame_rgb[..., :3].astype(np.float64) @ np.array([0.299, 0.587, 0.114])).astype(np.float32)
