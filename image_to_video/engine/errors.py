"""Errors the engine raises; each names what was wrong so callers can show it."""


class EngineError(Exception):
    """Base of every error the engine raises on purpose."""

    code = "engine_error"


class InvalidParameter(EngineError, ValueError):
    """A render parameter is out of range or does not fit the motion type."""

    code = "invalid_parameter"

    def __init__(self, param: str, message: str) -> None:
        super().__init__(f"{param}: {message}")
        self.param = param
        self.message = message


class InvalidImage(EngineError, ValueError):
    """The source is empty, not an image we read, corrupt, or too large."""

    code = "invalid_image"


class RenderCanceled(EngineError):
    """The caller asked to stop between two frames."""

    code = "canceled"
