"""Extractive one-line summaries: pick the abstract's key sentence, then make it a short blurb."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

import numpy as np

from tagger.config.summary_rules import DANGLING_WORDS, first_offense, summary_problems
from tagger.embedded.sentences import normalize_space, split_sentences
from tagger.latex import latex_to_text

if TYPE_CHECKING:
    from tagger.embedded.embedder import Embedder

MAX_CHARS = 160
MIN_CHARS = 30
Picker = Literal["lead", "claim", "centroid", "claim_centroid"]
# ROUGE-1 against eval/gold.jsonl's human summaries (222 papers), after rewriting and fitting:
# lead 0.20, centroid 0.28, claim 0.31, claim_centroid 0.31 (an oracle sentence pick: 0.40).
# 'claim' needs no embeddings, so it is the default; backends with sentence vectors pass them.
DEFAULT_PICKER: Picker = "claim"

# Verbs that mark the sentence stating the contribution (used to pick it) ...
_CLAIM_VERBS = (
    "propose|present|introduce|show|develop|demonstrate|design|release|build|create|devise"
    "|unveil|construct|establish|prove|derive|find|offer|contribute"
)
# Second choice when no sentence states a contribution: the sentence saying what is studied.
_STUDY_VERBS = "stud(?:y|ie)|investigate|explore|analy[sz]e|examine|review|survey"
# ... and, more broadly, verbs after which "we" can be dropped ("we study X" -> "Studies X").
_VERBS = (
    f"{_CLAIM_VERBS}|describe|stud(?:y|ie)|investigate|explore|report|provide|formulate|analy[sz]e"
    "|examine|identify|reveal|address|tackle|train|curate|collect|evaluate|benchmark|argue"
    "|extend|appl(?:y|ie)|leverage|take|aim|seek|focus|consider|reformulate|review|survey|discuss"
    "|revisit|characterize|adopt|pursue|employ|use|observe|conduct|examine|highlight|compare"
)
_SUBJECT = r"(?:we|this (?:paper|work|study|article|report|survey|note))"
_ADVERBS = r"(?:(?:\w+ly|also|further|then|here|now|first|thus|hence|therefore),?\s+)*"


def _subject_verb(verbs: str) -> re.Pattern[str]:
    return re.compile(rf"\b{_SUBJECT}\s+{_ADVERBS}(?P<verb>(?:{verbs})[a-z]*)\b", re.IGNORECASE)


_CLAIM = _subject_verb(_CLAIM_VERBS)
_STUDY = _subject_verb(_STUDY_VERBS)
_REWRITABLE = _subject_verb(_VERBS)
_CITATION = re.compile(r"\s*(?:\([^()]*\bet al\.[^()]*\)|\[[\d,\s\-–]+\])")
_PARENTHETICAL = re.compile(r"\s*\([^()]*\)")
_CLAUSE_PUNCT = re.compile(r"[,;:]\s|\s[—–-]\s")
# Where a clause with LaTeX residue or "we" can be cut off and leave a whole sentence behind.
_OFFENSE_CUT = re.compile(r"[,;:]\s|\s[—–-]\s|\s(?:for|with|via|using|by|where|when)\s")
_CLAUSE_WORD = re.compile(
    r"\s(?:which|that|while|where|whereas|and|but|by|using|via|through|with|to|for|in|on|from)\s"
)
_DANGLING = frozenset(
    "a an and as at by for from in into of on or our the their its that this to via which while"
    " with without we is are be such including compared like both either between than over per"
    " not each more less corresponding".split()
)
_PREAMBLE_MAX = 90  # chars of lead-in ("To address this, ") dropped before "we <verb>"
# Font switches whose backslash was lost upstream ("{it misaligned}"); pylatexenc does the rest.
_BARE_FONT = re.compile(r"\{\\?(?:it|bf|em|sl|sc|tt|rm)\s+([^{}]*)\}")
# Phrases that go wrong once "we"/"our" are gone ("Proposes what is to the knowledge the first").
_OUR_KNOWLEDGE = re.compile(
    r"(?:\bwhat is,?\s+)?\bto (?:the best of )?our knowledge,?\s+|,?\s*to (?:the best of )?our"
    r" knowledge\b",
    re.IGNORECASE,
)
_WE_CALL = re.compile(r"\b(?:which|that) we (?:call|term|dub|name)\b", re.IGNORECASE)
_NAME_APPOSITIVE = re.compile(r"^, ([A-Z][\w-]*), ")  # "we propose, DSFormer, a ..."
_COORDINATED = re.compile(rf"^(\s+and\s+(?:then\s+)?)(?P<verb>{_VERBS})\b")
_LATER_VERB = re.compile(
    rf"\b(and|then|,) (?:we )?(?P<verb>(?:{_VERBS}))\b(?= (?:this|these|it|them|the|a|an)\b)"
)


def sentence_is_claim(sentence: str) -> bool:
    return _CLAIM.search(sentence) is not None


def candidate_order(
    sentences: Sequence[str], picker: Picker, vectors: np.ndarray | None = None
) -> list[int]:
    """Sentence indices to try in turn: the pick, then claims, then study sentences, then all."""
    order = [pick_index(sentences, picker, vectors)] if sentences else []
    if picker in ("claim", "claim_centroid"):
        for pattern in (_CLAIM, _STUDY):
            order += [i for i, sentence in enumerate(sentences) if pattern.search(sentence)]
    return list(dict.fromkeys([*order, *range(len(sentences))]))


def pick_index(sentences: Sequence[str], picker: Picker, vectors: np.ndarray | None = None) -> int:
    """Index of the sentence to summarize; centroid pickers need `vectors`, one per sentence."""
    if picker in ("claim", "claim_centroid"):
        for pattern in (_CLAIM, _STUDY):
            for index, sentence in enumerate(sentences):
                if pattern.search(sentence):
                    return index
    if picker in ("centroid", "claim_centroid") and vectors is not None and len(vectors):
        centroid = vectors.mean(axis=0)
        return int(np.argmax(vectors @ centroid))
    return 0


def third_person(verb: str) -> str:
    """'propose' -> 'Proposes', 'study' -> 'Studies', 'analyze' -> 'Analyzes'."""
    lower = verb.lower()
    if lower.endswith(("ed", "ing")):  # 'we proposed', 'we are showing': keep the form
        return lower.capitalize()
    if lower.endswith("y") and lower[-2:-1] not in "aeiou":
        lower = lower[:-1] + "ie"
    elif lower.endswith(("s", "sh", "ch", "x", "z", "o")):
        lower += "e"
    return (lower + "s").capitalize()


def clean(sentence: str) -> str:
    """LaTeX as readable Unicode text ("$\\ell_p$" -> "ℓ_p"), font switches dropped."""
    return latex_to_text(_BARE_FONT.sub(r"\1", sentence))


def rewrite_claim(sentence: str) -> str:
    """'In this paper, we propose X' -> 'Proposes X'; other sentences come back unchanged."""
    sentence = _WE_CALL.sub("called", _OUR_KNOWLEDGE.sub(" ", sentence).replace("  ", " "))
    match = _REWRITABLE.search(sentence)
    # A long lead-in is kept when the sentence fits anyway and needs no "we" removed.
    if not match or (
        match.start() > _PREAMBLE_MAX
        and len(sentence) <= MAX_CHARS
        and not match.group(0).lower().startswith("we")
    ):
        return sentence
    verb = match.group("verb")
    rest = sentence[match.end("verb") :]
    rest = _NAME_APPOSITIVE.sub(r" \1, ", rest)
    if not match.group(0).lower().startswith("we"):
        return verb[:1].upper() + verb[1:] + rest
    return third_person(verb) + _third_person_rest(rest)


def _agree(match: re.Match[str], text: str) -> str:
    """'... and use this' -> '... and uses this', unless it continues an infinitive
    ('to interpret and evaluate the')."""
    if re.search(r"\bto \w+$", text[: match.start()].rstrip()):
        return match.group(0)
    return f"{match.group(1)} {third_person(match.group('verb')).lower()}"


def _third_person_rest(rest: str) -> str:
    """The words after the rewritten verb, agreeing with it and without "our"."""
    rest = _COORDINATED.sub(lambda m: m.group(1) + third_person(m.group("verb")).lower(), rest)
    rest = _LATER_VERB.sub(lambda m: _agree(m, rest), rest)
    # Without "we", "our method" reads oddly: "Proposes our X" -> "Proposes the X".
    rest = re.sub(r"\bour own\b", "its own", rest)
    return re.sub(r"\b[Oo]ur\b", "the", rest)


def fit(sentence: str, limit: int = MAX_CHARS) -> str:
    """Shorten to `limit` chars: drop citations, then asides, then cut at a clause boundary."""
    text = _CITATION.sub("", normalize_space(sentence)).strip()
    if len(text) > limit:
        text = _PARENTHETICAL.sub("", text)
    text = text.rstrip(" .;:,")
    if len(text) + 1 > limit:
        text = _cut(text, limit - 1)
    return _finish(text)


def _cut(text: str, limit: int) -> str:
    """The longest prefix within `limit` that ends at a clause, else at a word boundary."""
    window = text[: limit + 1]
    for pattern, floor in ((_CLAUSE_PUNCT, 0.55), (_CLAUSE_WORD, 0.45)):
        ends = [m.start() for m in pattern.finditer(window) if m.start() <= limit]
        good = [e for e in ends if e >= limit * floor]
        if good:
            return _trim(text[: good[-1]])
    space = window.rfind(" ", 0, limit + 1)
    return _trim(text[: space if space > 0 else limit])


def _trim(text: str) -> str:
    words = text.rstrip(" ,;:—–-").split(" ")
    while len(words) > 1 and words[-1].lower().strip(",;:") in _DANGLING | DANGLING_WORDS:
        words.pop()
    text = " ".join(words).rstrip(" ,;:—–-")
    if text.count("(") > text.count(")"):
        text = text[: text.rfind("(")].rstrip(" ,;:")
    return text


def _finish(text: str) -> str:
    if not text:
        return text
    text = text[:1].upper() + text[1:]
    return text if text.endswith(("?", "!", ".")) else text + "."


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", text.lower())


def one_line(sentence: str, title: str, limit: int = MAX_CHARS) -> str | None:
    """The blurb for one sentence, or None when it would just repeat the title."""
    blurb = fit(rewrite_claim(clean(sentence)), limit)
    if not blurb or _key(blurb) == _key(title):
        return None
    return blurb


def reads_right(blurb: str, title: str) -> str | None:
    """`blurb`, or its part before a first-person or LaTeX clause, if that passes the rules."""
    if not summary_problems(blurb, title):
        return blurb
    offense = first_offense(blurb)
    ends = [m.start() for m in _OFFENSE_CUT.finditer(blurb[: offense or 0])]
    shorter = _finish(_trim(blurb[: ends[-1]])) if ends else ""
    if len(shorter) >= MIN_CHARS and not summary_problems(shorter, title):
        return shorter
    return None


def summarize(
    title: str, abstract: str, picker: Picker = DEFAULT_PICKER, vectors: np.ndarray | None = None
) -> str:
    """One sentence, at most 160 chars, no newline, never the title itself; one that passes
    tagger.config.summary_rules when any sentence of the abstract can be made to."""
    sentences = split_sentences(abstract)
    order = candidate_order(sentences, picker, vectors)
    blurbs = [b for b in (one_line(sentences[i], title) for i in order) if b]
    good = [r for r in (reads_right(b, title) for b in blurbs) if r]
    # A fragment ("Code: github.com/x.") is a poor blurb; take it only when nothing else is left.
    preferred = [b for b in good if len(b) >= MIN_CHARS] + good + blurbs
    if preferred:
        return preferred[0]
    return fit(f"A paper titled: {normalize_space(title) or 'untitled'}")


def summarize_many(
    items: Sequence[tuple[str, str]], picker: Picker, embedder: Embedder | None = None
) -> list[str]:
    """Summaries for (title, abstract) pairs; centroid pickers embed all sentences in one batch."""
    if picker in ("lead", "claim") or embedder is None:
        return [summarize(title, abstract, picker) for title, abstract in items]
    split = [split_sentences(abstract) for _, abstract in items]
    flat = embedder.embed([s for sentences in split for s in sentences])
    out, start = [], 0
    for (title, abstract), sentences in zip(items, split, strict=True):
        vectors = flat[start : start + len(sentences)]
        start += len(sentences)
        out.append(summarize(title, abstract, picker, vectors))
    return out
