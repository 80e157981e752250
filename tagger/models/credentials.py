"""Before the first model call: are the provider's credentials there? One line naming the
variable beats a run of failed calls (litellm would report a missing key as an HTTP 500)."""

from __future__ import annotations

from tagger.errors import ConfigError


def missing_keys(model: str) -> list[str]:
    """The env vars litellm says `model` needs and that are unset (endpoints, not keys, such
    as OLLAMA_API_BASE have working defaults and are not asked for)."""
    import litellm

    try:
        found = litellm.validate_environment(model=model)
    except Exception:  # a model string litellm cannot place: its own call will say so
        return []
    if found.get("keys_in_environment"):
        return []
    return [str(k) for k in found.get("missing_keys") or [] if "API_BASE" not in str(k)]


def check_credentials(model: str, *, api_key: str | None, api_base: str | None) -> None:
    """Raise one ConfigError naming the missing variable. A key given (--api-key,
    TAGGER_API_KEY) or an own server (--api-base, which gets a placeholder key) needs none."""
    if api_key or api_base:
        return
    missing = missing_keys(model)
    if missing:
        names = " or ".join(missing)
        raise ConfigError(
            f"model {model} needs an API key and {names} is not set; no call was made.",
            hint=f"Set {missing[0]} (or pass --api-key / TAGGER_API_KEY).",
        )
