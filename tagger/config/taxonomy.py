"""Load and validate the user-editable YAML taxonomy; build the response model's tag type."""

from __future__ import annotations

import hashlib
import json
from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from tagger.errors import ConfigError, config_error_from
from tagger.yamlfile import compose_yaml

DEFAULT_TAXONOMY = Path(__file__).parent.parent / "data" / "taxonomy.yaml"


class Tag(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$", description="stable id used in outputs")
    label: str = Field(min_length=1)
    description: str = Field(description="what the model reads to decide whether the tag applies")
    group: str | None = None

    @field_validator("description")
    @classmethod
    def _not_empty(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("description must not be empty: the model reads it to decide")
        return value.strip()


class Taxonomy(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str = "taxonomy"
    version: str = "1"
    tags: tuple[Tag, ...]
    path: str = ""

    @cached_property
    def ids(self) -> tuple[str, ...]:
        return tuple(t.id for t in self.tags)

    @cached_property
    def by_id(self) -> dict[str, Tag]:
        return {t.id: t for t in self.tags}

    @cached_property
    def content_hash(self) -> str:
        """Hash of what the model sees (ids, labels, descriptions), not of comments or layout."""
        payload = [t.model_dump() for t in self.tags]
        digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
        return digest[:16]


def load_taxonomy(path: str | Path | None = None) -> Taxonomy:
    """Read and validate a taxonomy file; errors name the file and line."""
    import yaml

    file = Path(path) if path else DEFAULT_TAXONOMY
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read taxonomy ({exc}).", path=str(file)) from None
    node = compose_yaml(text, str(file))
    data = None if node is None else yaml.SafeLoader(text).construct_document(node)
    return _validate(data, str(file), _tag_lines(node))


def _tag_lines(node: Any) -> list[int]:
    """Line numbers (1-based) of each entry under `tags:`, for error messages."""
    import yaml

    if not isinstance(node, yaml.MappingNode):
        return []
    for key, value in node.value:
        if key.value == "tags" and isinstance(value, yaml.SequenceNode):
            return [item.start_mark.line + 1 for item in value.value]
    return []


def _validate(data: Any, file: str, tag_lines: list[int]) -> Taxonomy:
    if not isinstance(data, dict) or not isinstance(data.get("tags"), list) or not data["tags"]:
        raise ConfigError(
            "a taxonomy needs a non-empty `tags:` list.",
            path=file,
            line=1,
            hint="See `tagger taxonomy show` for the expected layout.",
        )
    tags: list[Tag] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(data["tags"]):
        line = tag_lines[index] if index < len(tag_lines) else None
        try:
            tag = Tag.model_validate(raw)
        except ValidationError as exc:
            raise config_error_from(exc, path=file, line=line, what=f"tag #{index + 1}") from None
        if tag.id in seen:
            raise ConfigError(
                f"duplicate tag id '{tag.id}' (first defined on line {seen[tag.id]}).",
                path=file,
                line=line,
                hint="Tag ids must be unique.",
            )
        seen[tag.id] = line or 0
        tags.append(tag)
    return Taxonomy(
        name=str(data.get("name", Path(file).stem)),
        version=str(data.get("version", "1")),
        tags=tuple(tags),
        path=file,
    )
