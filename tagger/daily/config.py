"""daily.yaml: sources, taxonomy, model, formats, output folder, email (password: env only)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from tagger.errors import config_error_from
from tagger.yamlfile import load_yaml

DigestFormat = Literal["md", "html", "txt", "rss", "json", "eml"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ArxivSource(Strict):
    categories: list[str] = Field(min_length=1)
    days: int = Field(default=1, ge=1, description="submitted in the N days before the date")
    max: int | None = Field(default=None, ge=1)
    api_url: str | None = None


class HfSource(Strict):
    api_url: str | None = None


class Source(Strict):
    """One of `arxiv: {...}` or `hf-daily: {...}`."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    arxiv: ArxivSource | None = None
    hf_daily: HfSource | None = Field(default=None, alias="hf-daily")


class Email(Strict):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    smtp: str = Field(description="HOST:PORT")
    security: Literal["auto", "starttls", "ssl", "none"] = "auto"
    user: str | None = Field(default=None, description="password: TAGGER_SMTP_PASSWORD")
    sender: str = Field(default="tagger <tagger@localhost>", alias="from")
    to: list[str] = Field(min_length=1)
    unsubscribe: str | None = None


class DailyConfig(Strict):
    output_dir: Path = Path("daily")
    sources: list[Source] = Field(min_length=1)
    taxonomy: Path | None = None
    model: str = "local/minilm"
    api_base: str | None = None
    title: str = "Papers digest"
    group_by: Literal["tag", "group"] = "group"
    top: int | None = Field(default=10, ge=1)
    interests: Path | None = None
    archive_url: str | None = None
    formats: list[DigestFormat] = ["html", "md"]  # pydantic copies defaults
    email: Email | None = None

    @field_validator("sources")
    @classmethod
    def _one_kind_each(cls, sources: list[Source]) -> list[Source]:
        for source in sources:
            if (source.arxiv is None) == (source.hf_daily is None):
                raise ValueError("each source is one of 'arxiv: {...}' or 'hf-daily: {}'")
        return sources


def load_config(path: Path) -> DailyConfig:
    """The checked config; relative paths in it are relative to the config file."""
    data = load_yaml(path, what="daily config")
    try:
        config = DailyConfig.model_validate(data)
    except ValidationError as exc:
        raise config_error_from(
            exc,
            path=str(path),
            what="daily config",
            hint="`tagger daily init` writes a commented example.",
        ) from None
    base = path.parent
    return config.model_copy(
        update={
            "output_dir": base / config.output_dir,
            "taxonomy": base / config.taxonomy if config.taxonomy else None,
            "interests": base / config.interests if config.interests else None,
        }
    )


EXAMPLE = """\
# tagger daily: fetch today's papers, tag them, and send the digest.
# Run it once a day (docs/daily.md has a cron line and a systemd timer):
#   tagger daily --config daily.yaml
# Each date gets a folder under output_dir; a second call the same day sends nothing new.

output_dir: daily              # relative to this file

sources:                       # in order: a paper listed twice keeps its first listing
  - hf-daily: {}               # Hugging Face daily papers (with upvotes)
  - arxiv:
      categories: [cs.LG, cs.CL]
      days: 1                  # submitted in the day before the date
      max: 300

# taxonomy: my-taxonomy.yaml   # default: the packaged ML/AI taxonomy
model: local/minilm            # the embedded offline model; any litellm string works
title: Papers digest
group_by: group                # one section per taxonomy group (or: tag)
top: 10                        # papers per section, best first (upvotes, then date)
# interests: likes.txt         # rank by similarity to lines you like instead
# archive_url: https://example.org/digest/   # "N more in this section" links here
formats: [html, md, txt, rss]

# email:                       # leave out to only write files
#   smtp: smtp.example.org:587
#   security: auto             # auto, starttls, ssl, none
#   user: me@example.org       # password from the environment: TAGGER_SMTP_PASSWORD
#   from: "Papers digest <digest@example.org>"
#   to: [reader@example.org]
#   unsubscribe: mailto:digest+unsubscribe@example.org
"""
