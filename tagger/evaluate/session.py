"""One eval from options to report: load gold, get predictions, score, compare, gate."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from tagger import __version__
from tagger.config.build import ModelSetup, build_setup
from tagger.config.taxonomy import DEFAULT_TAXONOMY, Taxonomy, load_taxonomy
from tagger.errors import ConfigError
from tagger.evaluate import gate as gating
from tagger.evaluate.compare import compare
from tagger.evaluate.gold import DEFAULT_GOLD, GoldSet, load_gold
from tagger.evaluate.models import (
    METRIC_NAMES,
    REPEAT_METRICS,
    EvalReport,
    GoldInfo,
    SystemResult,
    TaxonomyInfo,
)
from tagger.evaluate.predict import (
    Planned,
    Predictions,
    PredictOptions,
    match_to_gold,
    predict,
    read_log,
)
from tagger.evaluate.report import ReportPaths
from tagger.evaluate.score import score_system
from tagger.records import RunManifest, TaggedPaper
from tagger.run.output import manifest_path

if TYPE_CHECKING:
    from tagger.embedded.base import LocalBackend

_PROMPT_REF = re.compile(r"[\w.-]+@v?\d+")
NO_SUMMARIES = (
    "ROUGE not measured: the gold set has no reference summaries (tags only); "
    "rouge1/rouge2/rougeL are left out of the report."
)
CompareKind = Literal["prompt", "model", "log"]


@dataclass(frozen=True)
class ModelChoice:
    """The --model/--prompt/... flags, as `tagger run` takes them."""

    model: str | None = None
    api_base: str | None = None
    api_key: str | None = None
    taxonomy_path: str | None = None
    prompt_ref: str | None = None
    max_tags: int = 3
    mode: str | None = None
    threads: int | None = None
    head: str | None = None  # a `tagger train` head for local/minilm


@dataclass(frozen=True)
class EvalOptions:
    choice: ModelChoice = field(default_factory=ModelChoice)
    gold_path: str | None = None
    split: str | None = None  # dev, test, all; None: test when the gold file has splits
    repeats: int = 1
    compare: str | None = None
    from_log: str | None = None
    limit: int | None = None
    baseline: str | None = None
    metrics: Sequence[str] = gating.DEFAULT_METRICS
    max_drop: float = gating.DEFAULT_MAX_DROP
    predict: PredictOptions = field(default_factory=PredictOptions)


@dataclass
class _System:
    label: str
    log: Path
    setup: ModelSetup | None = None  # None: scored from an existing log
    runs: list[Predictions] = field(default_factory=list)
    identity: tuple[str, str, int] = ("", "", 0)  # model, prompt, max tags


def compare_kind(value: str) -> CompareKind:
    """NAME@vN or a .yaml file is a prompt; a .jsonl file a predictions log; else a model."""
    if value.endswith(".jsonl"):
        return "log"
    if value.endswith((".yaml", ".yml")) or _PROMPT_REF.fullmatch(value):
        return "prompt"
    return "model"


def check_options(options: EvalOptions) -> None:
    """Contradictions the user can fix before any model runs."""
    if options.from_log and options.repeats > 1:
        raise ConfigError("--repeats needs the model to run; it cannot re-score a --from-log file.")
    for metric in options.metrics:
        if metric not in METRIC_NAMES:
            known = ", ".join(METRIC_NAMES)
            raise ConfigError(f"unknown metric '{metric}' for --metric (known: {known}).")
        if metric in REPEAT_METRICS and options.repeats < 2:
            raise ConfigError(f"--metric {metric} needs --repeats N with N >= 2.")


def run_eval(options: EvalOptions, paths: ReportPaths) -> EvalReport:
    check_options(options)
    baseline = gating.load_baseline(options.baseline) if options.baseline else None
    taxonomy = load_taxonomy(options.choice.taxonomy_path)
    gold = load_gold(options.gold_path or DEFAULT_GOLD, taxonomy)
    gold = gold.select(options.split).limited(options.limit)
    systems, notes = _plan(options, paths)
    if not gold.has_summaries:
        notes.append(NO_SUMMARIES)
    notes += _repeat_notes(systems, options.repeats)
    notes += _collect(systems, gold, options)
    if options.predict.pack > 1:
        notes.append(
            f"remote models were sent {options.predict.pack} abstracts per request (--pack); "
            "embedded models answer one paper at a time"
        )
    results = [_score(s, gold, taxonomy) for s in systems]
    silent = [r for r in results if answered_nothing(r)] if len(results) > 1 else []
    notes += [
        f"{r.label} ({r.model}) answered no paper, so A and B are not compared." for r in silent
    ]
    report = EvalReport(
        tagger_version=__version__,
        created_at=datetime.now(UTC).isoformat(timespec="seconds"),
        gold=GoldInfo(
            path=gold.path, papers=len(gold.items), hash=gold.content_hash, split=gold.split
        ),
        taxonomy=TaxonomyInfo(
            name=taxonomy.name, path=_taxonomy_path(taxonomy), hash=taxonomy.content_hash
        ),
        systems=results,
        comparison=compare(results[0], results[1]) if len(results) > 1 and not silent else None,
        notes=notes,
    )
    if baseline is not None and options.baseline:
        gate = gating.check(report, baseline, options.baseline, options.metrics, options.max_drop)
        report.gate = gate
    return report


def _plan(options: EvalOptions, paths: ReportPaths) -> tuple[list[_System], list[str]]:
    """The systems to score, and notes on what they cannot show."""
    choice = options.choice
    first = (
        _System("A", Path(options.from_log))
        if options.from_log
        else _System(
            "A", paths.predictions(0), _setup(choice, choice.model, _other(options), choice.head)
        )
    )
    if options.compare is None:
        return [first], _prompt_notes([first], choice.prompt_ref)
    kind = compare_kind(options.compare)
    if kind == "log":
        systems = [first, _System("B", Path(options.compare))]
        return systems, _prompt_notes(systems, choice.prompt_ref)
    if kind == "prompt" and first.setup is not None and not reads_prompt(first.setup):
        # B would be A again under another name: say so instead of computing it twice.
        same = f"so --compare {options.compare} would answer exactly as A; B was not run."
        return [first], [f"{_ignores_prompt(first.setup)}, {same}"]
    second = replace(choice, prompt_ref=options.compare) if kind == "prompt" else choice
    model = options.compare if kind == "model" else choice.model
    # --head belongs to the first system; `--compare local/minilm` shows what the head adds.
    head = choice.head if kind == "prompt" else None
    systems = [first, _System("B", paths.predictions(1), _setup(second, model, choice.model, head))]
    if kind == "prompt":  # A is a logged run here; B's model may ignore the prompt all the same
        return systems, _prompt_notes(systems[1:], options.compare, "--compare")
    return systems, _prompt_notes(systems, choice.prompt_ref)


def _prompt_notes(
    systems: list[_System], prompt_ref: str | None, flag: str = "--prompt"
) -> list[str]:
    if prompt_ref is None:
        return []
    return [
        f"{_ignores_prompt(s.setup)}; {flag} {prompt_ref} changes none of {s.label}'s answers."
        for s in systems
        if s.setup is not None and not reads_prompt(s.setup)
    ]


def _ignores_prompt(setup: ModelSetup) -> str:
    model = setup.gateway.model
    return f"{model} does not read the prompt (embedded models tag from the paper and taxonomy)"


def _repeat_notes(systems: list[_System], repeats: int) -> list[str]:
    """--repeats on a model that cannot vary measures nothing: say so."""
    if repeats < 2:
        return []
    return [note for s in systems if s.setup and (note := _determinism(s.setup, repeats))]


def _determinism(setup: ModelSetup, repeats: int) -> str:
    backend = embedded_backend(setup)
    model = setup.gateway.model
    if backend is not None and backend.deterministic:
        return (
            f"{model} is deterministic: its {repeats} runs give the same answers, so agreement "
            "is 1 and pass^N equals exact match by construction; --repeats shows nothing here."
        )
    if backend is None and setup.prompt.sampling.temperature == 0:
        return (
            f"{model} samples at temperature 0: its {repeats} runs differ only where the "
            "provider is not deterministic, so pass^N is close to exact match by construction, "
            "not a measure of sampling stability."
        )
    return ""


def embedded_backend(setup: ModelSetup) -> LocalBackend | None:
    from tagger.models.local import LocalGateway

    return setup.gateway.backend if isinstance(setup.gateway, LocalGateway) else None


def reads_prompt(setup: ModelSetup) -> bool:
    """Whether the prompt file can change this model's answers."""
    backend = embedded_backend(setup)
    return backend is None or backend.reads_prompt


def answered_nothing(result: SystemResult) -> bool:
    return bool(result.papers) and len(result.failed) == len(result.papers)


def _other(options: EvalOptions) -> str | None:
    compare = options.compare
    return compare if compare and compare_kind(compare) == "model" else None


def _setup(
    choice: ModelChoice, model: str | None, other_model: str | None, head: str | None = None
) -> ModelSetup:
    """--api-base/--api-key belong to the remote model when an embedded one is compared with it."""
    from tagger.config.build import default_model
    from tagger.embedded import is_local

    name = model or default_model()
    remote_other = other_model is not None and not is_local(other_model)
    keep_endpoint = not (is_local(name) and remote_other)
    return build_setup(
        model=name,
        api_base=choice.api_base if keep_endpoint else None,
        api_key=choice.api_key if keep_endpoint else None,
        taxonomy_path=choice.taxonomy_path,
        prompt_ref=choice.prompt_ref,
        max_tags=choice.max_tags,
        mode=choice.mode,
        threads=choice.threads,
        head=head,
    )


def _collect(systems: list[_System], gold: GoldSet, options: EvalOptions) -> list[str]:
    """Fill each system's runs: run the model ones together, read the logged ones."""
    planned = [(s, Planned(s.setup, s.label, s.log)) for s in systems if s.setup is not None]
    results = predict([p for _, p in planned], gold, options.repeats, options.predict)
    for (system, plan), runs in zip(planned, results, strict=True):
        system.runs = runs
        system.identity = (plan.setup.gateway.model, plan.setup.prompt.ref, plan.setup.max_tags)
    notes: list[str] = []
    for system in systems:
        if system.setup is None:
            notes += _read_logged(system, gold, options.choice.max_tags)
    return notes


def _read_logged(system: _System, gold: GoldSet, max_tags: int) -> list[str]:
    records = read_log(system.log)
    found = match_to_gold(gold, records)
    system.runs = [found]
    system.identity = _log_identity(system.log, records, max_tags)
    missing = len(gold.items) - len(found)
    if not missing:
        return []
    return [
        f"{system.log} has no prediction for {missing} of {len(gold.items)} gold papers; "
        "they count as failed."
    ]


def _log_identity(log: Path, records: Sequence[TaggedPaper], max_tags: int) -> tuple[str, str, int]:
    """Model, prompt and K of a logged run: from its manifest, else from its records."""
    manifest = manifest_path(log)
    if manifest.is_file():
        try:
            m = RunManifest.model_validate_json(manifest.read_text(encoding="utf-8"))
            return m.model, m.prompt, m.max_tags
        except (OSError, ValueError):
            pass  # a damaged manifest only loses the label
    return _most_common(r.model for r in records), _most_common(r.prompt for r in records), max_tags


def _most_common(values: Iterable[str]) -> str:
    top = Counter(values).most_common(1)
    return top[0][0] if top else "unknown"


def _score(system: _System, gold: GoldSet, taxonomy: Taxonomy) -> SystemResult:
    model, prompt, max_tags = system.identity
    return score_system(
        gold,
        taxonomy,
        system.runs,
        label=system.label,
        model=model,
        prompt=prompt,
        max_tags=max_tags,
        predictions=_display(system.log),
    )


def _taxonomy_path(taxonomy: Taxonomy) -> str:
    if not taxonomy.path or Path(taxonomy.path) == DEFAULT_TAXONOMY:
        return "built-in"
    return _display(Path(taxonomy.path))


def _display(path: Path) -> str:
    """Paths under the working directory are shown relative, so committed reports stay portable."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
