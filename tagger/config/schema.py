"""The response model: the prompt's contract, built from the taxonomy at run time."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any, Literal, TypeVar, cast

from pydantic import BaseModel, Field, ValidationInfo, create_model, field_validator

from tagger.config.summary_rules import summary_problems
from tagger.config.taxonomy import Taxonomy

MAX_SUMMARY_CHARS = 160
Answer = TypeVar("Answer", bound=BaseModel)
# A sentence break: end punctuation, space, then an uppercase letter (not "e.g. X" or "Fig. 2").
# The punctuation comes first, and the exceptions look back from it, so the scan can skip ahead.
_SENTENCE_BREAK = re.compile(
    r"[.!?](?<!\be\.g.)(?<!\bi\.e.)(?<!\bvs.)(?<!\bal.)(?<!\bFig.)\s+[A-Z]", re.DOTALL
)
_NOT_ALNUM = bytes(c for c in range(128) if not chr(c).isalnum())  # ASCII, but letters, digits


class TagSummary(BaseModel):
    """Base of the per-taxonomy response model; `tags` is narrowed to the taxonomy's ids."""

    tags: list[str]
    summary: str = Field(
        description=(
            "One sentence, at most 160 characters, no line breaks, saying what the paper does "
            "or finds; not a copy of the title."
        )
    )

    @field_validator("tags", mode="before")
    @classmethod
    def _distinct(cls, tags: Any) -> Any:
        if isinstance(tags, str):  # a lone id where a list was asked for
            tags = [tags]
        if isinstance(tags, list) and all(isinstance(t, str) for t in tags):
            return list(dict.fromkeys(t.strip() for t in tags))
        return tags

    @field_validator("summary", mode="after")
    @classmethod
    def _one_line(cls, summary: str, info: ValidationInfo) -> str:
        summary = summary.strip()
        if not summary:
            raise ValueError("summary is empty; write one sentence about what the paper does")
        if "\n" in summary or "\r" in summary:
            raise ValueError("summary must be a single line without line breaks")
        if len(summary) > MAX_SUMMARY_CHARS:
            raise ValueError(
                f"summary has {len(summary)} characters; shorten it to at most {MAX_SUMMARY_CHARS}"
            )
        if _SENTENCE_BREAK.search(summary):
            raise ValueError("summary must be exactly one sentence")
        title = (info.context or {}).get("title") if isinstance(info.context, dict) else None
        if title and _squash(summary) == _squash(title):
            raise ValueError("summary copies the title; say what the paper does or finds instead")
        problems = summary_problems(summary, title)
        if problems:  # all of them, so one re-ask can fix every one
            raise ValueError("; ".join(problems))
        return summary


# Models built at run time cannot be pickled by name; worker processes (`tagger.models.workers`)
# rebuild them from the factory call that made them.
_RECIPES: dict[type[BaseModel], tuple[Callable[..., type[BaseModel]], tuple[Any, ...]]] = {}


def recipe(model: type[BaseModel]) -> tuple[Callable[..., type[BaseModel]], tuple[Any, ...]] | None:
    """The factory call that built `model`, or None for a class importable by name."""
    return _RECIPES.get(model)


def _squash(text: str) -> bytes:
    """The lowercased text's ASCII letters and digits only, for telling a copied title."""
    return text.lower().encode("ascii", "ignore").translate(None, _NOT_ALNUM)


@lru_cache(maxsize=32)
def response_model(taxonomy: Taxonomy, max_tags: int) -> type[TagSummary]:
    """TagSummary whose `tags` is 1..max_tags ids of this taxonomy (a closed vocabulary)."""
    tag_type = cast(Any, Literal.__getitem__(taxonomy.ids))
    tags_field = (
        list[tag_type],  # type: ignore[valid-type]
        Field(
            min_length=1,
            max_length=max_tags,
            description=f"1 to {max_tags} distinct tag ids from the taxonomy, most relevant first.",
        ),
    )
    model = create_model("TagSummary", __base__=TagSummary, tags=tags_field)
    _RECIPES[model] = (response_model, (taxonomy, max_tags))
    return model


def validate_answer(
    model: type[Answer], answer: str | bytes | Mapping[str, Any], context: dict[str, Any]
) -> Answer:
    """The one check a model's answer passes, whichever path brought it: an embedded backend,
    a worker process, the batch API or a cache hit (live remote calls run the same
    `model_validate*` through instructor). `answer` is the JSON text or the parsed object;
    `context` is the request's validation context (the paper's title: a summary must not copy
    it). Raises ValueError (pydantic's ValidationError) when the answer does not pass."""
    if isinstance(answer, str | bytes):
        return model.model_validate_json(answer, context=context)
    return model.model_validate(answer, context=context)


def schema_hash(model: type[BaseModel]) -> str:
    schema = json.dumps(model.model_json_schema(), sort_keys=True)
    return hashlib.sha256(schema.encode()).hexdigest()[:16]


class IntroText(BaseModel):
    """The digest's model-written opening paragraph."""

    text: str = Field(
        min_length=20,
        max_length=600,
        description="2-3 plain sentences on the day's themes, at most 600 characters",
    )

    @field_validator("text", mode="after")
    @classmethod
    def _grounded(cls, text: str, info: ValidationInfo) -> str:
        """Whole sentences, and no number or name that the day's sections and titles (context
        "facts") lack."""
        if text.rstrip().endswith((":", ",", ";", "-", "(")):
            raise ValueError("the paragraph stops mid-sentence; write complete sentences")
        facts = (info.context or {}).get("facts") if isinstance(info.context, dict) else None
        if isinstance(facts, str):
            from tagger.config.faithfulness import unsupported

            invented = unsupported(text, facts)
            if invented:
                raise ValueError(
                    f"mentions {', '.join(invented[:5])}, which today's sections and titles do "
                    "not; use only what they say"
                )
        return text


class PackedAnswer(BaseModel):
    """`--pack K`: one answer per fenced abstract, keyed by its pack id (p1..pK)."""

    items: list[Any]

    @field_validator("items", mode="after")
    @classmethod
    def _each_id_once(cls, items: list[Any], info: ValidationInfo) -> list[Any]:
        ids = [item.id for item in items]
        expected = (info.context or {}).get("titles", {}) if isinstance(info.context, dict) else {}
        if sorted(ids) != sorted(expected):
            raise ValueError(f"answer each id exactly once: {sorted(expected)}; got {ids}")
        for item in items:
            if _squash(item.summary) == _squash(expected[item.id]):
                raise ValueError(f"summary of {item.id} copies its title; say what the paper does")
        return items


@lru_cache(maxsize=64)
def packed_model(taxonomy: Taxonomy, max_tags: int, ids: tuple[str, ...]) -> type[PackedAnswer]:
    single = response_model(taxonomy, max_tags)
    id_type = cast(Any, Literal.__getitem__(ids))
    item = create_model("PackItem", __base__=single, id=(id_type, ...))
    model = create_model("PackedAnswer", __base__=PackedAnswer, items=(list[item], ...))  # type: ignore[valid-type]
    _RECIPES[model] = (packed_model, (taxonomy, max_tags, ids))
    return model
