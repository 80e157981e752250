"""What makes a one-line summary read as broken: the one rule set for the response model's
validator, eval's compliance and the extractive writer.

Each message is written to be fed back to a model on a re-ask, so it says what to do instead.
The rules are tuned to pass every human reference summary in eval/gold.jsonl.
"""

from __future__ import annotations

import re

# LaTeX that survived as markup, or lost its backslashes on the way ("mathcal{O}", "pneq 2").
# Unicode math ("𝒪(n)", "ℓ_p") and plain "ell_p", "I^3C" are fine: a reader can read them.
_LATEX = re.compile(
    r"[\\${}]|\^[{(-]"
    r"|\b(?:math(?:cal|frak|bb|bf|rm|scr|sf)|var(?:epsilon|phi|theta|rho|sigma|pi)"
    r"|sqrt|frac|textbf|textit|emph|operatorname)"
    r"|(?:neq|leq|geq|rightarrow|leftarrow|nabla|infty)\b|\w(?:big|Big)[(\[]"
    r"|(?<![^\W\d_])[A-Za-z]{1,2}_(?:[A-Za-z0-9]|\{)"
)
# Every match of _LATEX contains one of these (at least one per alternative above), so a summary
# without any needs no scan: a dozen `in` tests cost a tenth of the regex, which has no literal
# prefix to skip ahead by and is run on every answer and every cache hit.
_LATEX_NEEDLES = (
    *"\\${}^_",
    *"mathcal mathfrak mathbb mathbf mathrm mathscr mathsf sqrt frac textbf textit emph".split(),
    *"varepsilon varphi vartheta varrho varsigma varpi operatorname".split(),
    *"neq leq geq rightarrow leftarrow nabla infty big( big[ Big( Big[".split(),
)
_FIRST_PERSON = re.compile(r"\b(?:[Ww]e|WE|[Oo]urs?|OURS?|[Oo]urselves|us)\b")
_SUBORDINATOR = re.compile(
    r"^(?:Although|Though|Even though|While|Whereas|Because|Since|If|Unless|When|Whenever"
    r"|As long as|Despite|In spite of)\b"
)
# Closing words that promise more: an article, preposition or linking word, or an adjective
# whose noun was cut off ("... as the product of a small dense.").
DANGLING_WORDS = frozenset(
    "a an and as at by for from in into of on or the their its that this these those to via"
    " which while with without is are be was were has have such including like both either"
    " between than over per not each whose where when whether allows enables"
    " small large dense sparse new novel simple general different various several many"
    " efficient effective strong weak high low deep shallow".split()
)
# Verbs a summary starts with ("Proposes X"); a bare one after "and" is a broken rewrite.
_BASE_VERBS = (
    "propose present introduce show develop demonstrate design release build create study"
    " investigate explore analyze analyse examine evaluate use apply provide derive prove find"
    " establish train compare discuss identify argue reveal describe report offer construct"
    " extend survey review benchmark formulate characterize address tackle"
).split()


def _third(verb: str) -> str:
    if verb.endswith("y"):
        return verb[:-1] + "ies"
    return verb + ("es" if verb.endswith(("s", "sh", "ch", "x", "z")) else "s")


_THIRD = "|".join(_third(v).capitalize() for v in _BASE_VERBS)
_PAIRED = re.compile(r"\b(?:both|either) (?:the|a|an|its|their)(?: [^ ]+){1,3}$", re.IGNORECASE)
_VERB_AGREEMENT = re.compile(rf"^(?:{_THIRD}),? and (?:then )?(?:{'|'.join(_BASE_VERBS)})\b")
_THAT_OPENER = re.compile(
    rf"^(?:{_THIRD}) that,? (?:despite|although|though|while|whereas|when|if|unless|under|given"
    r"|because|since|after|before)\b(?P<tail>.*)$"
)
_CONTRIBUTION_START = re.compile(rf"^(?:{_THIRD})\b")  # "Proposes ...", "Shows that ..."
_LOST_OUR = re.compile(r"\bto the (?:best of the )?knowledge\b")  # "our" turned into "the"
_VERB_COMMA_NAME = re.compile(r"[A-Z][a-z]+s, [A-Z][\w-]*, ")  # "Proposes, DSFormer, a ..."
# Background a reader skips: the field's state, not what this paper does.
_BACKGROUND = re.compile(
    r"^(?:In recent years|Recent(?:ly| years| advances| progress| work)|Over the past"
    r"|With the (?:rapid |recent )?(?:rise|advent|growth|success|development|emergence|popularity)"
    r" of)\b"
    r"|^(?:However, )?[^,]{0,90}?\b(?:ha(?:s|ve) (?:recently )?(?:become|emerged|attracted"
    r"|gained|garnered|received|drawn|witnessed|seen|transitioned|revolutioni[sz]ed)"
    r"|ha(?:s|ve) (?:demonstrated|shown|achieved|made) (?:remarkable|impressive|great|significant"
    r"|tremendous|substantial|strong|promising)"
    r"|(?:is|are) (?:critical|crucial|essential|indispensable|vital|key|fundamental)"
    r" (?:to|for|in))\b"
    r"|^However, .*\b(?:remains?|is|are) (?:limited|unclear|challenging|elusive|an open"
    r"|underexplored|unexplored|lacking)\b"
)


def summary_problems(summary: str, title: str | None = None) -> list[str]:
    """Why `summary` would read as broken; an empty list when it reads right."""
    text = summary.strip()
    checks = (
        (_latex_residue(text), _LATEX_MESSAGE),
        (_FIRST_PERSON.search(text) is not None, _FIRST_PERSON_MESSAGE),
        (_lone_clause(text), _LONE_CLAUSE_MESSAGE),
        (_dangling(text), _DANGLING_MESSAGE),
        (_broken_rewrite(text), _REWRITE_MESSAGE),
        (_background(text), _BACKGROUND_MESSAGE),
    )
    return [message.format(quote=found) for found, message in checks if found]


def first_offense(text: str) -> int | None:
    """Where the first LaTeX residue or first-person word starts (for cutting before it)."""
    hits = [m.start() for m in (_latex(text), _FIRST_PERSON.search(text)) if m]
    return min(hits) if hits else None


def _latex(text: str) -> re.Match[str] | None:
    """_LATEX.search(text), skipped when no needle shows a match is possible."""
    for needle in _LATEX_NEEDLES:  # a loop: any() over a generator costs a third more
        if needle in text:
            return _LATEX.search(text)
    return None


_LATEX_MESSAGE = (
    "summary contains LaTeX markup or its residue ({quote}); write the math in plain words or "
    "Unicode (𝒪(n), ℓ_p, ε) or leave it out"
)
_FIRST_PERSON_MESSAGE = (
    "summary speaks as the authors ('we', 'our', 'us'); describe the paper in the third person, "
    "e.g. 'Proposes X' or 'Shows that Y'"
)
_LONE_CLAUSE_MESSAGE = (
    "summary is only a subordinate clause ({quote}...) with no main clause; say what the paper "
    "does or finds"
)
_DANGLING_MESSAGE = (
    "summary stops mid-phrase (ends with {quote!r}); finish the phrase or end at a complete one"
)
_REWRITE_MESSAGE = (
    "summary is ungrammatical ({quote}); e.g. 'Proposes and investigates X', 'Proposes X, a ...'"
)
_BACKGROUND_MESSAGE = (
    "summary states background about the field ({quote}...), not this paper's contribution; "
    "say what the paper proposes, shows or finds"
)


def _latex_residue(text: str) -> str:
    found = _latex(text)
    return repr(text[max(0, found.start() - 8) : found.end() + 8]) if found else ""


def _lone_clause(text: str) -> str:
    found = _SUBORDINATOR.match(text)
    # "Although X, Y." has its main clause after the comma; without one it is a fragment.
    if found and "," not in text:
        return found.group(0)
    # The same inside a that-clause: "Finds that despite the recent focus on IO."
    found = _THAT_OPENER.match(text)
    return found.group(0) if found and "," not in found.group("tail") else ""


def _dangling(text: str) -> str:
    body = text.rstrip(" .!?")
    words = body.rsplit(None, 1)
    last = words[-1].lower().strip(",;:") if words else ""
    if last in DANGLING_WORDS:
        return last
    # "in both the finite-sum." lost its "and ..." half.
    # _PAIRED needs "both " or "either " in any case; lower() finds every spelling re's
    # IGNORECASE matches, as no non-ASCII letter folds to one of "b o t h e r" (it does to "i").
    lowered = body.lower()
    if "both " not in lowered and "ther " not in lowered:
        return ""
    found = _PAIRED.search(body)
    return found.group(0) if found and not re.search(r"\b(?:and|or)\b", found.group(0)) else ""


def _broken_rewrite(text: str) -> str:
    found = _VERB_AGREEMENT.search(text) or _VERB_COMMA_NAME.match(text)
    if found is None and "knowledge" in text:
        found = _LOST_OUR.search(text)
    return repr(found.group(0).strip(", ")) if found else ""


def _background(text: str) -> str:
    if _CONTRIBUTION_START.match(text):
        return ""
    found = _BACKGROUND.search(text)
    return repr(text[: min(len(text), 60)]) if found else ""
