"""Versioned prompt files (prompts/<name>/v<N>.yaml): load, list, and render chat messages."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tagger.errors import ConfigError
from tagger.records import Paper
from tagger.taxonomy import Taxonomy

DEFAULT_PROMPT = "tag_summarize@v1"
PACKAGED_PROMPTS = Path(__file__).parent / "data" / "prompts"
_PLACEHOLDER = re.compile(r"\{(title|abstract|taxonomy|max_tags)\}")
# The abstract is fenced as data: anything in it that could close or reopen the fence is defused,
# attributes (`<abstract id="p2">` forges a --pack block) and full-width brackets included.
_FENCE = re.compile(r"[<\uff1c\ufe64]\s*/?\s*abstract\b[^<>\uff1c\uff1e]*[>\uff1e\ufe65]", re.I)
_DEFUSE = str.maketrans(
    {"<": "‹", ">": "›", "\uff1c": "‹", "\uff1e": "›", "\ufe64": "‹", "\ufe65": "›"}
)

Mode = Literal["json", "json_schema", "md_json", "tools"]


class Sampling(BaseModel):
    model_config = ConfigDict(extra="allow")

    temperature: float = 0.0
    max_tokens: int = 300


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
    import yaml

    try:
        data: Any = yaml.safe_load(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read prompt ({exc}).", path=str(file)) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ConfigError(
            f"invalid YAML: {getattr(exc, 'problem', exc)}.",
            path=str(file),
            line=mark.line + 1 if mark is not None else None,
        ) from None
    if not isinstance(data, dict):
        raise ConfigError("a prompt file must be a YAML mapping.", path=str(file), line=1)
    try:
        spec = PromptSpec.model_validate({**data, "path": str(file)})
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"{field}: {first['msg']}.", path=str(file)) from None
    if file.stem != f"v{spec.version}":
        raise ConfigError(
            f"file name says {file.stem} but `version:` is {spec.version}.", path=str(file)
        )
    return spec


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
