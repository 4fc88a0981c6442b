"""``python -m image_to_video.engine IMAGE OUT [options]``: render without Django."""

from __future__ import annotations

import argparse
import json
import sys

from . import DIRECTIONS, MOTION_TYPES, EngineError, MotionParams, render_video
from .params import PRESETS, parse_focus, parse_keyframes


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m image_to_video.engine",
        description="Turn a still image into a video with a camera move. "
        "The container follows OUT's extension: .mp4, .mov or .gif.",
    )
    parser.add_argument("image", metavar="IMAGE", help="JPEG, PNG or WebP")
    parser.add_argument("out", metavar="OUT", help="output file (.mp4, .mov or .gif)")
    parser.add_argument("--motion-type", default="zoom", choices=MOTION_TYPES)
    parser.add_argument(
        "--motion-direction",
        default=None,
        choices=sorted({d for ds in DIRECTIONS.values() for d in ds}),
        help="default: in for zoom/complex, right for pan/rotation",
    )
    parser.add_argument("--motion-strength", type=int, default=50, help="1-100 (default 50)")
    parser.add_argument("--duration", type=float, default=3.0, help="seconds, 1-10 (default 3)")
    parser.add_argument("--width", type=int, default=1080)
    parser.add_argument("--height", type=int, default=1080)
    parser.add_argument("--fps", type=int, default=None, help="1-60 (default 30; 15 for gif)")
    parser.add_argument("--crf", type=int, default=20, help="libx264 quality, 0-51 (default 20)")
    parser.add_argument("--preset", default="veryfast", choices=PRESETS, help="libx264 preset")
    parser.add_argument(
        "--focus", default="auto", help="auto (faces, else the salient region; default), center, or X,Y in 0..1"
    )
    parser.add_argument(
        "--keyframes",
        default=None,
        help="camera path instead of the motion options: a JSON list (or @file) of keyframes "
        '{"t", "zoom", "x", "y", "angle", "ease"}',
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        params = MotionParams.for_output(
            args.out,
            motion_type=args.motion_type,
            motion_direction=args.motion_direction,
            motion_strength=args.motion_strength,
            duration=args.duration,
            width=args.width,
            height=args.height,
            fps=args.fps,
            crf=args.crf,
            preset=args.preset,
            focus=parse_focus(args.focus),
            keyframes=parse_keyframes(args.keyframes) if args.keyframes else None,
        ).validate()
        if args.quiet:
            result = render_video(args.image, args.out, params)
        else:
            from tqdm import tqdm  # here: the import costs ~15 ms of start-up that --quiet need not pay

            with tqdm(total=params.frame_count, unit="frame", file=sys.stderr) as bar:

                def progress(fraction: float) -> None:
                    bar.update(round(fraction * params.frame_count) - bar.n)

                result = render_video(args.image, args.out, params, on_progress=progress)
    except EngineError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    print(
        json.dumps(
            {
                "path": result.path,
                "width": result.width,
                "height": result.height,
                "frames": result.frame_count,
                "fps": result.fps,
                "duration": result.duration,
                "size": result.size,
                "framing": result.framing,
                "cameraPath": result.camera_path,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
