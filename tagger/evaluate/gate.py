"""The regression gate: compare chosen metrics with a saved baseline report."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError

from tagger.errors import ConfigError, config_error_from
from tagger.evaluate.metrics import ROUGE_TYPES
from tagger.evaluate.models import LOWER_IS_BETTER, EvalReport, Gate, GateCheck, SystemResult

DEFAULT_METRICS = ("micro_f1",)
DEFAULT_MAX_DROP = 0.02
_EPSILON = 1e-9  # float noise is not a regression
_HINT = "Pass a JSON report written by `tagger eval -o FILE` (e.g. eval/baselines/*.json)."


def load_baseline(path: str | Path) -> EvalReport:
    file = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise ConfigError(f"cannot read the baseline ({reason}).", path=file, hint=_HINT) from None
    try:
        return EvalReport.model_validate_json(text)
    except ValidationError as exc:
        raise config_error_from(
            exc, path=file, hint=_HINT, frame="not a tagger eval report ({})"
        ) from None


def check(
    current: EvalReport,
    baseline: EvalReport,
    baseline_path: str,
    metrics: Sequence[str] = DEFAULT_METRICS,
    max_drop: float = DEFAULT_MAX_DROP,
) -> Gate:
    """Fail a metric when it is worse than the baseline's by more than `max_drop` (absolute)."""
    now, then = current.systems[0].metrics, baseline.systems[0].metrics
    checks = []
    for metric in dict.fromkeys(metrics):
        _require_price(metric, current.systems[0], baseline.systems[0])
        _require(metric, now, then, baseline_path)
        sign = -1.0 if metric in LOWER_IS_BETTER else 1.0
        drop = round(sign * (then[metric] - now[metric]), 6)
        checks.append(
            GateCheck(
                metric=metric,
                baseline=then[metric],
                current=now[metric],
                drop=drop,
                failed=drop > max_drop + _EPSILON,
            )
        )
    return Gate(
        baseline=baseline_path,
        max_drop=max_drop,
        checks=checks,
        warnings=_mismatches(current, baseline) + _noise(current, metrics, max_drop),
    )


def _require_price(metric: str, now: SystemResult, then: SystemResult) -> None:
    """A cost litellm could not price cannot be gated (a report never guesses it as $0)."""
    if not metric.startswith("cost_usd"):
        return
    for system, which in ((now, "this run"), (then, "the baseline")):
        if system.cost_unknown and metric not in system.metrics:
            raise ConfigError(
                f"--metric {metric}: the cost of {which} is unknown "
                f"(no price for {system.model}); gate on a token metric instead."
            )


def _require(metric: str, now: dict[str, float], then: dict[str, float], path: str) -> None:
    if metric not in now and metric in ROUGE_TYPES:
        raise ConfigError(
            f"--metric {metric}: ROUGE was not measured (the gold set has no reference "
            "summaries); gate on a tag metric such as micro_f1 instead."
        )
    if metric not in now:
        known = ", ".join(sorted(now))
        raise ConfigError(f"unknown metric '{metric}' for --metric (known: {known}).")
    if metric not in then:
        raise ConfigError(
            f"the baseline has no metric '{metric}'.",
            path=path,
            hint="Regenerate the baseline with the same options (e.g. --repeats).",
        )


def _noise(current: EvalReport, metrics: Sequence[str], max_drop: float) -> list[str]:
    """A gate tighter than micro-F1's bootstrap interval judges noise, not the change."""
    ci = current.systems[0].micro_f1_ci
    if "micro_f1" not in metrics or ci is None or max_drop >= ci.half_width:
        return []
    return [
        f"--max-drop {max_drop:g} is smaller than the half-width of micro_f1's "
        f"{ci.level * 100:g}% interval (±{ci.half_width:.3f} over {current.gold.papers} papers): "
        "a drop that small can be chance, so the gate can fail or pass on noise alone."
    ]


def _mismatches(current: EvalReport, baseline: EvalReport) -> list[str]:
    """Differences that make the comparison less meaningful; reported, not fatal."""
    warnings = []
    if current.gold.hash != baseline.gold.hash:
        warnings.append(
            f"the baseline was scored on a different gold set ({baseline.gold.papers} papers, "
            f"now {current.gold.papers})."
        )
    if current.taxonomy.hash != baseline.taxonomy.hash:
        warnings.append("the baseline was scored with a different taxonomy.")
    a, b = current.systems[0], baseline.systems[0]
    if (a.model, a.prompt, a.max_tags) != (b.model, b.prompt, b.max_tags):
        warnings.append(
            f"the baseline is {b.model} {b.prompt} (max {b.max_tags} tags); "
            f"this run is {a.model} {a.prompt} (max {a.max_tags} tags)."
        )
    return warnings
