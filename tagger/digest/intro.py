"""The optional paragraph on the day's themes.

An ``IntroWriter`` takes the sections and returns a short paragraph. The CLI passes a writer that
goes through the model gateway when a model is chosen; ``extractive_intro`` is the offline default
(counted from the sections, no model involved), and the fallback when the model call fails.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from tagger.digest.models import Intro, Section, plural
from tagger.digest.text import one_line
from tagger.errors import ModelError, TaggerError

IntroWriter = Callable[[list[Section]], str]


class IntroUnavailable(ModelError):
    """No model can write the intro here (e.g. no embedded text model installed)."""


MAX_INTRO_CHARS = 600
_NAMED = 3  # sections named in the extractive intro; the rest are summed up


def extractive_intro(sections: Sequence[Section]) -> str:
    """'Today: 12 papers on Reasoning, 8 on Diffusion models, 5 on Video and 9 more in 4 other
    sections.' Deterministic: the same sections always give the same sentence."""
    if not sections:
        return "Today: no new papers."
    named = [
        f"{plural(s.count, 'paper') if i == 0 else s.count} on {s.label}"
        for i, s in enumerate(sections[:_NAMED])
    ]
    rest = sections[_NAMED:]
    if rest:
        others = sum(s.count for s in rest)
        named.append(f"{others} more in {plural(len(rest), 'other section')}")
    head = ", ".join(named[:-1])
    return f"Today: {head} and {named[-1]}." if head else f"Today: {named[-1]}."


def intro_facts(
    sections: Sequence[Section], titles_per_section: int = 3, *, counts: bool = True
) -> str:
    """The day's contents as plain lines, for a model-written intro's prompt."""
    lines = []
    for section in sections:
        titles = "; ".join(e.title for e in section.entries[:titles_per_section])
        count = f" ({section.count})" if counts else ""
        lines.append(f"- {section.label}{count}: {titles}")
    return "\n".join(lines)


def counts_sentence(sections: Sequence[Section]) -> str:
    """The extractive intro without its 'Today:' ('82 papers on Large language models, ...')."""
    return extractive_intro(sections).removeprefix("Today: ")


def compose_intro(sections: list[Section], writer: IntroWriter | None) -> Intro:
    """Run the writer; without one, or when it fails, fall back to the extractive intro."""
    if writer is None or writer is extractive_intro:
        return Intro(text=extractive_intro(sections), source="extractive")
    try:
        text = _tidy(writer(sections))
    except IntroUnavailable as exc:
        return _fallback(sections, exc.message)
    except TaggerError as exc:
        # A digest without its intro is still worth sending; keep why it is the plain one.
        return _fallback(sections, f"the intro model failed: {exc}")
    if not text:
        return _fallback(sections, "the intro model returned no text")
    return Intro(text=text, source="model")


def _fallback(sections: list[Section], why: str) -> Intro:
    return Intro(text=extractive_intro(sections), source="extractive", fallback_reason=why)


def _tidy(text: str) -> str:
    """One paragraph, bounded: model text is shown as-is (escaped) in every format."""
    flat = one_line(text)
    if len(flat) <= MAX_INTRO_CHARS:
        return flat
    return flat[: MAX_INTRO_CHARS - 1].rsplit(" ", 1)[0] + "…"
