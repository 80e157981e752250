"""The exceptions tagger raises on purpose; the CLI prints them as one line, never a traceback."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tagger.records import Usage


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
    """A model call failed for good (after the allowed retries), with what it spent.

    Subclasses say why, as httpx's tree does; `stops_run` marks causes the next call cannot fix
    (a wrong key, a model that does not exist), so a run stops instead of repeating them."""

    stops_run = False

    def __init__(self, message: str, usage: Usage | None = None, **where: Any) -> None:
        super().__init__(message, **where)
        from tagger.records import Usage

        self.usage = usage if usage is not None else Usage()


class ModelTransportError(ModelError):
    """The request did not get an answer: connection, timeout, or a 5xx from the server."""


class ModelTimeoutError(ModelTransportError):
    """An attempt ran past --timeout (the whole attempt, not only one read)."""


class ModelRateLimitError(ModelTransportError):
    """429: the provider asked us to slow down, and kept asking after the retries."""


class ModelAuthError(ModelError):
    """401/403 or missing credentials: every further call would fail the same way."""

    stops_run = True


class ModelRequestError(ModelError):
    """The provider rejected the request itself (400, 404 model not found, 422)."""

    stops_run = True


class ModelInputError(ModelRequestError):
    """The provider rejected this paper's request (context window, content policy): the next
    paper may pass, so the run goes on."""

    stops_run = False


class InvalidAnswerError(ModelError):
    """Answers kept failing validation after the re-asks (or broke a rule tagger checks)."""


def model_error_class(name: str) -> type[ModelError]:
    """The ModelError subclass called `name` (to rebuild one sent from a worker process)."""
    known: list[type[ModelError]] = [ModelError, *_subclasses(ModelError)]
    for cls in known:
        if cls.__name__ == name:
            return cls
    return ModelError


def _subclasses(cls: type[ModelError]) -> list[type[ModelError]]:
    found: list[type[ModelError]] = []
    for sub in cls.__subclasses__():
        found += [sub, *_subclasses(sub)]
    return found


class CacheError(TaggerError):
    """The cache directory is unusable."""


class OutputError(TaggerError):
    """An output file cannot be written."""
