"""Load and validate a gold set: JSONL, one {id, title, abstract, tags, summary, source} a line."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tagger.config.taxonomy import Taxonomy
from tagger.errors import ConfigError, InputError, config_error_from
from tagger.jsonio import parse_json_line

DEFAULT_GOLD = Path("eval") / "gold.jsonl"
_HINT = "Each line must be a JSON object with id, title, abstract, tags, summary (and source)."


class GoldItem(BaseModel):
    """One hand-labelled paper. Extra keys (notes, labeller) are allowed and ignored."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    id: str = Field(min_length=1)
    title: str = Field(min_length=1)
    abstract: str = Field(min_length=1)
    tags: list[str] = Field(description="the right tag set; may be empty (no tag applies)")
    summary: str = Field(description="reference one-line summary; '' leaves it out of ROUGE")
    source: str = Field(default="", description="where the paper was read, as 'file:line'")
    split: Literal["dev", "test"] | None = Field(
        default=None, description="dev: tune on it; test: report and gate on it (never tune)"
    )


@dataclass(frozen=True)
class GoldSet:
    path: str
    items: list[GoldItem]
    split: str = "all"  # which part of the file `items` is: all, dev or test

    @property
    def content_hash(self) -> str:
        """Changes when any record does, so a baseline made on other gold is noticed."""
        payload = json.dumps([i.model_dump() for i in self.items], sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()[:16]

    @property
    def has_summaries(self) -> bool:
        """Whether any paper has a reference summary (without one, ROUGE is not measured)."""
        return any(i.summary.strip() for i in self.items)

    def limited(self, limit: int | None) -> GoldSet:
        return self if limit is None else GoldSet(self.path, self.items[:limit], self.split)

    def select(self, split: str | None) -> GoldSet:
        """Only the papers of one split; None: test when the file has splits, else all."""
        has_splits = any(i.split for i in self.items)
        chosen = split or ("test" if has_splits else "all")
        if chosen == "all":
            return GoldSet(self.path, self.items, "all")
        if not has_splits:
            raise ConfigError(
                f"--split {chosen}: the gold file has no 'split' field.",
                path=self.path,
                hint='Use --split all, or add "split": "dev"|"test" to each line.',
            )
        items = [i for i in self.items if i.split == chosen]
        if not items:
            raise ConfigError(f"the gold file has no '{chosen}' papers.", path=self.path)
        return GoldSet(self.path, items, chosen)


def load_gold(path: str | Path, taxonomy: Taxonomy) -> GoldSet:
    """Read and validate every line; the first problem raises a ConfigError naming file:line."""
    file = str(path)
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise ConfigError(
            f"cannot read the gold file ({reason}).",
            path=file,
            hint="Pass --gold FILE (JSONL, one labelled paper per line).",
        ) from None
    items: list[GoldItem] = []
    first_line: dict[str, int] = {}
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        item = _parse(text, file, number)
        _check_tags(item, taxonomy, file, number)
        if item.id in first_line:
            raise ConfigError(
                f"duplicate id '{item.id}' (first on line {first_line[item.id]}).",
                path=file,
                line=number,
                hint="Each gold paper needs its own id.",
            )
        first_line[item.id] = number
        items.append(
            item if item.source else item.model_copy(update={"source": f"{file}:{number}"})
        )
    if not items:
        raise ConfigError("the gold file has no records.", path=file, hint=_HINT)
    return GoldSet(file, items)


def _parse(text: str, file: str, number: int) -> GoldItem:
    try:
        data: Any = parse_json_line(text, path=file, line=number)
    except InputError as exc:  # bad JSON, too long, nested too deep, too many digits
        detail = exc.message.removeprefix("invalid JSON: ")[:-1]
        raise ConfigError(f"invalid JSON ({detail}).", path=file, line=number, hint=_HINT) from None
    if not isinstance(data, dict):
        raise ConfigError("expected a JSON object.", path=file, line=number, hint=_HINT)
    try:
        return GoldItem.model_validate(data)
    except ValidationError as exc:
        raise config_error_from(exc, path=file, line=number, what="record", hint=_HINT) from None


def _check_tags(item: GoldItem, taxonomy: Taxonomy, file: str, number: int) -> None:
    for tag in item.tags:
        if tag not in taxonomy.by_id:
            raise ConfigError(
                f"unknown tag '{tag}' (not in taxonomy '{taxonomy.name}').",
                path=file,
                line=number,
                hint="Fix the tag, or pass the --taxonomy FILE the gold set was labelled with.",
            )
    if len(set(item.tags)) != len(item.tags):
        raise ConfigError("a tag is listed twice.", path=file, line=number, hint="List it once.")
