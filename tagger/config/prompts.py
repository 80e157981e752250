"""Versioned prompt files (prompts/<name>/v<N>.yaml): load, list, and render chat messages."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from tagger.config.taxonomy import Taxonomy
from tagger.errors import ConfigError, config_error_from
from tagger.records import Paper
from tagger.yamlfile import load_yaml

DEFAULT_PROMPT = "tag_summarize@v1"
PACKAGED_PROMPTS = Path(__file__).parent.parent / "data" / "prompts"
PLACEHOLDERS = ("title", "abstract", "taxonomy", "max_tags")
_PLACEHOLDER = re.compile(r"\{(title|abstract|taxonomy|max_tags)\}")
# `{name}` or a `{name` left open: what a placeholder looks like, known or not (JSON such as
# {"tags": ...} starts with a quote and is left alone).
_PLACEHOLDER_LIKE = re.compile(r"\{[ \t]*([A-Za-z_][A-Za-z0-9_]*)[ \t]*(\}?)")
# Fields a prompt must show the model, by response model: without them it answers blind.
REQUIRED_FIELDS = {"TagSummary": ("title", "abstract", "taxonomy"), "IntroText": ("abstract",)}
# The abstract is fenced as data: anything in it that could close or reopen the fence is defused,
# attributes (`<abstract id="p2">` forges a --pack block) and full-width brackets included.
_FENCE = re.compile(r"[<\uff1c\ufe64]\s*/?\s*abstract\b[^<>\uff1c\uff1e]*[>\uff1e\ufe65]", re.I)
_DEFUSE = str.maketrans(
    {"<": "‹", ">": "›", "\uff1c": "‹", "\uff1e": "›", "\ufe64": "‹", "\ufe65": "›"}
)

Mode = Literal["json", "json_schema", "md_json", "tools"]


# What a prompt file may set under `sampling:`. Where a request goes and how it is sent (api_base,
# api_key, headers, model, timeout, ...) comes from the command line only: a prompt file is data
# that may come from anywhere, and must not redirect a key to another server.
SAMPLING_KEYS = frozenset(
    {
        "temperature",
        "max_tokens",
        "top_p",
        "top_k",
        "min_p",
        "seed",
        "stop",
        "presence_penalty",
        "frequency_penalty",
        "repeat_penalty",
    }
)


class Sampling(BaseModel):
    # extra="allow" so the parameters a file sets (and only those) reach the call and the cache key
    model_config = ConfigDict(extra="allow")

    temperature: float = 0.0
    max_tokens: int = 300

    @model_validator(mode="before")
    @classmethod
    def _only_sampling(cls, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(str(key) for key in data if key not in SAMPLING_KEYS)
            if unknown:
                allowed = ", ".join(sorted(SAMPLING_KEYS))
                raise ValueError(
                    f"'{unknown[0]}' is not a sampling parameter (allowed: {allowed}); "
                    "the model, api_base and keys come from the command line, never a prompt file"
                )
            for key in (
                "top_p",
                "top_k",
                "min_p",
                "seed",
                "presence_penalty",
                "frequency_penalty",
                "repeat_penalty",
            ):
                if key in data and not _is_number(data[key]):
                    raise ValueError(f"'{key}' must be a number")
            stop = data.get("stop")
            if stop is not None and not (
                isinstance(stop, str)
                or (isinstance(stop, list) and all(isinstance(s, str) for s in stop))
            ):
                raise ValueError("'stop' must be a string or a list of strings")
        return data


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


class PromptSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    version: int = Field(ge=1)
    description: str = ""
    response_model: Literal["TagSummary", "IntroText"] = "TagSummary"
    mode: Mode = "json"
    sampling: Sampling = Field(default_factory=Sampling)
    system: str
    user: str
    prefill: str = Field(
        default="",
        description="The start of the answer, sent as a last assistant turn for the model to "
        "continue (for small embedded models that write text; JSON-answering models get none)",
    )
    path: str = ""

    @property
    def ref(self) -> str:
        return f"{self.name}@v{self.version}"

    @property
    def content_hash(self) -> str:
        """Hash of everything that changes what the model is asked (not comments or file path)."""
        payload = self.model_dump(exclude={"path", "description"})
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def prompt_dirs() -> list[Path]:
    """Where prompts are looked up: ./prompts (user edits) first, then the packaged ones."""
    dirs = [Path.cwd() / "prompts", PACKAGED_PROMPTS]
    return [d for i, d in enumerate(dirs) if d.is_dir() and d.resolve() not in _resolved(dirs[:i])]


def _resolved(paths: list[Path]) -> set[Path]:
    return {p.resolve() for p in paths if p.exists()}


def parse_ref(ref: str) -> tuple[str, int | None]:
    """'name@v2' -> ('name', 2); 'name' -> ('name', None) meaning the latest version."""
    name, _, version = ref.partition("@")
    if not version:
        return name, None
    match = re.fullmatch(r"v?(\d+)", version)
    if not name or match is None:
        raise ConfigError(
            f"bad prompt reference '{ref}'.", hint="Use NAME@vN, e.g. tag_summarize@v1."
        )
    return name, int(match.group(1))


def list_prompts() -> list[PromptSpec]:
    found: dict[str, PromptSpec] = {}
    for directory in prompt_dirs():
        for file in sorted(directory.glob("*/v*.yaml")):
            spec = load_prompt_file(file)
            found.setdefault(spec.ref, spec)
    return sorted(found.values(), key=lambda s: (s.name, s.version))


def load_prompt(ref: str = DEFAULT_PROMPT) -> PromptSpec:
    """Resolve NAME@vN (or a path to a .yaml file) to a validated prompt."""
    if ref.endswith((".yaml", ".yml")):
        return load_prompt_file(Path(ref))
    name, version = parse_ref(ref)
    for directory in prompt_dirs():
        candidates = sorted(
            (directory / name).glob("v*.yaml"), key=lambda p: int(re.sub(r"\D", "", p.stem) or 0)
        )
        if version is not None:
            candidates = [c for c in candidates if c.stem == f"v{version}"]
        if candidates:
            return load_prompt_file(candidates[-1])
    known = ", ".join(s.ref for s in list_prompts()) or "none"
    raise ConfigError(
        f"no prompt '{ref}' found (known: {known}).", hint="See `tagger prompts list`."
    )


def load_prompt_file(file: Path) -> PromptSpec:
    data: Any = load_yaml(file, what="prompt")
    if not isinstance(data, dict):
        raise ConfigError("a prompt file must be a YAML mapping.", path=str(file), line=1)
    try:
        spec = PromptSpec.model_validate({**data, "path": str(file)})
    except ValidationError as exc:
        raise config_error_from(exc, path=str(file)) from None
    check_placeholders(spec, file)
    if file.stem != f"v{spec.version}":
        raise ConfigError(
            f"file name says {file.stem} but `version:` is {spec.version}.", path=str(file)
        )
    return spec


def check_placeholders(spec: PromptSpec, file: Path) -> None:
    """Every required field is rendered; every {placeholder} is a known, closed one."""
    text = _read_or_empty(file)
    for template in (spec.system, spec.user):
        for match in _PLACEHOLDER_LIKE.finditer(template):
            name, closed = match.group(1), match.group(2)
            if closed and name in PLACEHOLDERS:
                continue
            if not closed and name not in PLACEHOLDERS:
                continue  # prose such as "{e.g." is not meant as a placeholder
            problem = "is not closed" if not closed else "is not a known placeholder"
            raise ConfigError(
                f"'{match.group(0)}' {problem} (placeholders: "
                + ", ".join("{" + p + "}" for p in PLACEHOLDERS)
                + ").",
                path=str(file),
                line=_line_of(text, match.group(0)),
                hint="Write it as one of those, e.g. {abstract}.",
            )
    rendered = spec.system + spec.user
    for name in REQUIRED_FIELDS.get(spec.response_model, ()):
        if "{" + name + "}" not in rendered:
            raise ConfigError(
                f"the prompt never shows the model the {name}: neither `system` nor `user` "
                f"contains {{{name}}}.",
                path=str(file),
                line=_line_of(text, "user:"),
                hint=f"Add {{{name}}} to the user template.",
            )


def _read_or_empty(file: Path) -> str:
    try:
        return file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""


def _line_of(text: str, needle: str) -> int | None:
    index = text.find(needle)
    return text.count("\n", 0, index) + 1 if index >= 0 else None


def taxonomy_block(taxonomy: Taxonomy) -> str:
    return "\n".join(f"- {t.id}: {t.label}. {t.description}" for t in taxonomy.tags)


def fence(text: str) -> str:
    return _FENCE.sub(lambda m: m.group(0).translate(_DEFUSE), text)


def render(
    spec: PromptSpec, paper: Paper, taxonomy: Taxonomy, max_tags: int
) -> list[dict[str, str]]:
    """Chat messages: stable instructions + taxonomy first (prefix-cacheable), the abstract last."""
    values = {
        "title": fence(paper.title),
        "abstract": fence(paper.abstract),
        "taxonomy": taxonomy_block(taxonomy),
        "max_tags": str(max_tags),
    }

    def fill(template: str) -> str:
        return _PLACEHOLDER.sub(lambda m: values[m.group(1)], template)

    messages = [
        {"role": "system", "content": fill(spec.system).strip()},
        {"role": "user", "content": fill(spec.user).strip()},
    ]
    if spec.prefill:
        messages.append({"role": "assistant", "content": spec.prefill})
    return messages


PACK_NOTE = (
    "Several abstracts follow, each fenced as <abstract id=...>. Answer every id exactly once, "
    'as {"items": [{"id": ..., "tags": [...], "summary": ...}, ...]}.'
)


def render_pack(
    spec: PromptSpec, papers: list[Paper], taxonomy: Taxonomy, max_tags: int
) -> list[dict[str, str]]:
    """`--pack K`: the same instructions once, then K fenced abstracts keyed p1..pK."""
    system = render(spec, papers[0], taxonomy, max_tags)[0]["content"]
    blocks = [
        f'<abstract id="p{i}">\nTitle: {fence(p.title)}\n\n{fence(p.abstract)}\n</abstract>'
        for i, p in enumerate(papers, start=1)
    ]
    user = "\n\n".join(blocks) + "\n\nAnswer with the JSON object only."
    return [
        {"role": "system", "content": f"{system}\n\n{PACK_NOTE}"},
        {"role": "user", "content": user},
    ]
