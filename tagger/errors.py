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
    raw_text: str | None = None  # the last answer's text, when the model answered (invalidly)

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


def config_error_from(
    exc: Exception,
    *,
    path: str | None = None,
    line: int | None = None,
    what: str = "",
    hint: str = "",
    frame: str = "{}",
) -> ConfigError:
    """A pydantic ValidationError about a user's file, said in tagger's words (first problem):
    the one translation every file reader uses.

    `what` prefixes the field path (e.g. "tag #3"); `frame` places the phrase in a sentence
    (e.g. "not a tagger head file ({})"); pydantic's own wording ("Value error, ...", "String
    should match pattern ...") never reaches the user.
    """
    if not (exc.errors() if hasattr(exc, "errors") else []):
        phrase = f"{what or 'file'}: {exc}"
    else:
        field, first = first_problem(exc, "")
        where = ": ".join(part for part in (what, field) if part) or "file"
        phrase = f"{where}: {describe_problem(first)}"
    return ConfigError(frame.format(phrase) + ".", path=path, line=line, hint=hint)


def first_problem(exc: Exception, whole: str) -> tuple[str, dict[str, Any]]:
    """Where a pydantic ValidationError's first problem is (its field path, or `whole` when it
    is about the whole object) and that problem's error dict: the one reading of a validation
    error that every file reader shares (`config_error_from` words it for users' files)."""
    errors = exc.errors() if hasattr(exc, "errors") else []
    if not errors:
        return whole, {"msg": str(exc), "type": ""}
    first: dict[str, Any] = dict(errors[0])
    return ".".join(str(part) for part in first.get("loc", ())) or whole, first


def describe_problem(error: dict[str, object]) -> str:
    """One pydantic error dict -> a phrase such as 'is required' or 'must be at least 1'."""
    kind = str(error.get("type", ""))
    ctx = error.get("ctx")
    ctx = ctx if isinstance(ctx, dict) else {}
    fixed = {
        "missing": "is required",
        "extra_forbidden": "is not a field this file may have",
        "int_parsing": "must be a whole number",
        "int_type": "must be a whole number",
        "float_parsing": "must be a number",
        "float_type": "must be a number",
        "bool_parsing": "must be true or false",
        "bool_type": "must be true or false",
        "string_type": "must be text",
        "list_type": "must be a list",
        "dict_type": "must be a mapping",
        "model_type": "must be a mapping",
        "string_pattern_mismatch": "does not have the expected form",
    }
    if kind in fixed:
        return fixed[kind]
    bounds = {
        "greater_than": "must be more than",
        "greater_than_equal": "must be at least",
        "less_than": "must be less than",
        "less_than_equal": "must be at most",
    }
    if kind in bounds:
        limit = next(iter(ctx.values()), "")
        return f"{bounds[kind]} {limit}"
    if kind in ("too_short", "too_long"):
        size = ctx.get("min_length" if kind == "too_short" else "max_length", "")
        word = "at least" if kind == "too_short" else "at most"
        return f"must have {word} {size} item(s) or characters"
    if kind == "literal_error":
        return f"must be one of {ctx.get('expected', 'the allowed values')}"
    message = str(error.get("msg", "is invalid"))
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    return message.rstrip(".")
