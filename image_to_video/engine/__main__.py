"""``python -m image_to_video.engine IMAGE OUT [options]``: render without Django."""

from __future__ import annotations

import argparse
import json
import sys

from . import EngineError, MotionParams, render_video
from .cli import add_move_arguments, move_fields
from .params import PRESETS


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m image_to_video.engine",
        description="Turn a still image into a video with a camera move. "
        "The container follows OUT's extension: .mp4, .mov, .webm or .gif.",
    )
    parser.add_argument("image", metavar="IMAGE", help="JPEG, PNG or WebP")
    parser.add_argument("out", metavar="OUT", help="output file (.mp4, .mov, .webm or .gif)")
    add_move_arguments(parser)
    parser.add_argument("--fps", type=int, default=None, help="1-60 (default 30; 15 for gif)")
    parser.add_argument("--crf", type=int, default=20, help="libx264 quality, 0-51 (default 20)")
    parser.add_argument("--preset", default="veryfast", choices=PRESETS, help="libx264 preset")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        params = MotionParams.for_output(
            args.out, fps=args.fps, crf=args.crf, preset=args.preset, **move_fields(vars(args))
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
