"""The exceptions tagger raises on purpose; the CLI prints them as one line, never a traceback."""

from __future__ import annotations


class TaggerError(Exception):
    """A problem the user can fix. ``str()`` is one full sentence with where and what to do."""

    def __init__(
        self, message: str, *, path: str | None = None, line: int | None = None, hint: str = ""
    ) -> None:
        self.message = message
        self.path = path
        self.line = line
        self.hint = hint
        super().__init__(self.render())

    def render(self) -> str:
        where = ""
        if self.path is not None:
            where = f"{self.path}:{self.line}: " if self.line is not None else f"{self.path}: "
        hint = f" {self.hint}" if self.hint else ""
        return f"{where}{self.message}{hint}"


class InputError(TaggerError):
    """An input file cannot be read or parsed."""


class ConfigError(TaggerError):
    """A taxonomy, prompt, gold or endpoint file is invalid, or flags contradict each other."""


class ModelError(TaggerError):
    """A model call failed for good (after the allowed retries)."""


class CacheError(TaggerError):
    """The cache directory is unusable."""


class OutputError(TaggerError):
    """An output file cannot be written."""
