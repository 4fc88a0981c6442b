"""The camera move in words: Runway has no camera parameters, so the motion wanted becomes ``promptText``."""

from __future__ import annotations


def _place(x: float, y: float) -> str:
    """A photo point in words: "upper left", "the centre", "right"."""
    across = "left" if x < 0.38 else "right" if x > 0.62 else ""
    down = "upper" if y < 0.38 else "lower" if y > 0.62 else ""
    return " ".join(w for w in (down, across) if w) or "the centre"


def _target(focus: object) -> str:
    if isinstance(focus, dict):
        place = _place(float(focus["x"]), float(focus["y"]))
        return "the centre of the scene" if place == "the centre" else f"the subject at {place}"
    return "the main subject" if focus == "auto" else "the centre of the scene"


def _keyframe_words(keyframes: list[dict]) -> str:
    """A keyframed path told as a sequence: "slow push in toward upper left, hold, then drift right"."""
    steps: list[str] = []
    for a, b in zip(keyframes, keyframes[1:], strict=False):
        if a.get("ease") == "hold":
            steps.append("hold")
            continue
        parts = []
        ratio = b["zoom"] / a["zoom"]
        if ratio > 1.05:
            parts.append(f"push in toward {_place(b['x'], b['y'])}")
        elif ratio < 0.95:
            parts.append("pull back")
        dx, dy = b["x"] - a["x"], b["y"] - a["y"]
        if max(abs(dx), abs(dy)) > 0.03 and ratio <= 1.05:
            parts.append(
                "drift " + ("right" if dx > 0 else "left")
                if abs(dx) >= abs(dy)
                else "drift " + ("down" if dy > 0 else "up")
            )
        turn = b.get("angle", 0) - a.get("angle", 0)
        if abs(turn) > 1:
            parts.append("roll " + ("clockwise" if turn > 0 else "counter-clockwise"))
        pace = "quick" if b["t"] - a["t"] < 1 else "slow"
        steps.append(f"{pace} " + " and ".join(parts) if parts else "hold")
    if not steps:
        return "hold still"
    return ", ".join(steps[:-1]) + (", then " if len(steps) > 1 else "") + steps[-1]


def motion_prompt(
    motion_type: str,
    direction: str,
    strength: int,
    user_text: str = "",
    *,
    focus: object = "center",
    keyframes: list[dict] | None = None,
) -> str:
    """The camera move in words (Runway has no camera parameters): the move, where it looks, its pace."""
    pace = "very gentle" if strength <= 25 else "gentle" if strength <= 50 else "steady" if strength <= 75 else "bold"
    target = _target(focus)
    if keyframes:
        text = f"Static scene, camera path: {_keyframe_words(keyframes)}. Smooth, stable, no cuts."
    else:
        if motion_type == "zoom":
            move = (
                f"the camera slowly pushes in on {target}"
                if direction == "in"
                else f"the camera slowly pulls back from {target}"
            )
        elif motion_type == "pan":
            move = f"the camera pans {direction}, keeping {target} in frame"
        elif motion_type == "rotation":
            sense = "clockwise" if direction == "right" else "counter-clockwise"
            move = f"the camera rolls {sense} around {target}"
        else:
            sense = {"in": "pushing in", "out": "pulling back"}.get(direction, f"drifting {direction} while pushing in")
            move = f"a cinematic camera move, {sense} on {target} with a slight roll"
        text = f"Static scene, {pace} camera motion: {move}. Smooth, stable, no cuts."
    if user_text:
        text = f"{user_text.strip()} {text}"
    return text[:1000]
