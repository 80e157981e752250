"""A cheap faithfulness check: numbers and named things in a summary that the paper never states.

A summary may reword freely, but a number ("95.3%", "7B") or a name ("GPT-4", "ResNet", "LLaMA",
"Transformer" mid-sentence) that is not in the title or abstract the model was given is flagged:
it is either invented or carried over from elsewhere. Matching is case-insensitive and ignores
punctuation and spacing ("Llama-2" == "Llama 2"), so only genuinely new facts are flagged.
"""

from __future__ import annotations

import re

_TOKEN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9+\-.]*[A-Za-z0-9+])?%?")
_NUMBER = re.compile(r"\d+(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?")
_MULTIPLIER = re.compile(r"\d+(?:\.\d+)?x")  # "2x faster": a number, not a name
_SENTENCE_END = re.compile(r"(?:^|[.!?:;])[\s\"'(\[]*$")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_WORD_NUMBERS = {
    word: float(value)
    for value, word in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen"
        " fifteen sixteen seventeen eighteen nineteen twenty".split()
    )
} | {"thirty": 30.0, "forty": 40.0, "fifty": 50.0, "hundred": 100.0, "thousand": 1000.0}
_MIN_SUBSTRING = 4  # shorter names must match a whole token ("AI" is not found inside "said")
_MIN_STEM = 5
_SUFFIXES = ("ness", "ian", "ity", "ic", "al", "ed", "ing", "es", "ly")
_STOPWORDS = frozenset(
    "a an the of and or in on for to from with by via as at is are we our".split()
)


def unsupported(summary: str, source: str) -> list[str]:
    """Numbers and names in `summary` that `source` (title + abstract) does not contain."""
    index = _SourceIndex(source)
    flagged: list[str] = []
    for match in _TOKEN.finditer(summary):
        token = match.group(0)
        at_start = _SENTENCE_END.search(summary[: match.start()]) is not None
        if _is_numeric(token):
            missing = [n for n in _numbers(token) if n not in index.numbers]
            flagged += [token] if missing else []
        elif _is_name(token, at_start) and not index.has_name(token):
            flagged.append(token)
    return list(dict.fromkeys(flagged))


def _is_numeric(token: str) -> bool:
    return not any(c.isalpha() for c in token.rstrip("%")) or bool(_MULTIPLIER.fullmatch(token))


def _numbers(text: str) -> list[float]:
    return [float(n.replace(",", "")) for n in _NUMBER.findall(text)]


def _is_name(token: str, at_start: bool) -> bool:
    """Acronyms, camel case, letter-digit mixes anywhere; capitalized words mid-sentence."""
    if len(token) < 2 or not any(c.isalpha() for c in token):
        return False
    if any(c.isdigit() for c in token) or any(c.isupper() for c in token[1:]):
        return True
    return token[0].isupper() and not at_start


def _norm(text: str) -> str:
    return _NON_ALNUM.sub("", text.lower())


def _variants(token: str) -> set[str]:
    """The token, its singular ("LLMs" -> "llm"), and without lower-case tails ("GPT-4-based")."""
    forms = {token}
    parts = token.split("-")
    while len(parts) > 1 and parts[-1].islower():
        parts = parts[:-1]
        forms.add("-".join(parts))
    found = {_norm(f) for f in forms}
    return found | {f[:-1] for f in found if f.endswith("s") and len(f) > 3}


def _initials(words: list[str], sizes: range) -> set[str]:
    return {
        "".join(w[0] for w in words[i : i + n]) for n in sizes for i in range(len(words) - n + 1)
    }


def _is_acronym(token: str) -> bool:
    """RL, LLMs, MCMC, MoE: letters only, at least two of them capitals."""
    return token.isalpha() and sum(c.isupper() for c in token) >= 2


class _SourceIndex:
    def __init__(self, source: str) -> None:
        tokens = _TOKEN.findall(source)
        self.words: set[str] = set().union(*(_variants(t) for t in tokens)) if tokens else set()
        self.squashed = _norm(source)
        self.numbers = set(_numbers(source)) | {
            _WORD_NUMBERS[w] for w in re.findall(r"[a-z]+", source.lower()) if w in _WORD_NUMBERS
        }
        # Abbreviations of spelled-out terms are fine ("reinforcement learning" -> RL). Two-letter
        # ones must come from content words, or "an image" would vouch for "AI".
        words = re.findall(r"[a-z]+", source.lower())
        content = [w for w in words if w not in _STOPWORDS]
        self.initials = _initials(words, range(3, 7)) | _initials(content, range(2, 7))

    def has_name(self, token: str) -> bool:
        forms = _variants(token)
        if forms & self.words:
            return True
        if any(len(f) >= _MIN_SUBSTRING and f in self.squashed for f in forms):
            return True
        if _is_acronym(token) and forms & self.initials:
            return True
        return any(self._derived(f) for f in forms)

    def _derived(self, form: str) -> bool:
        """'Lipschitzness' from 'Lipschitz', 'Bayesian' from 'Bayes'."""
        return any(
            form.endswith(end)
            and len(form) - len(end) >= _MIN_STEM
            and form[: -len(end)] in self.words
            for end in _SUFFIXES
        )
