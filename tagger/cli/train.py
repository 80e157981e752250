"""`tagger train`: fit a learned head for local/minilm on labeled papers; report held-out F1."""

from __future__ import annotations

from pathlib import Path

import click

from tagger.cli.common import echo_err


@click.command("train")
@click.option(
    "--labels",
    "labels_path",
    required=True,
    help="Gold JSONL (eval/gold.jsonl format) or a run's OUT.jsonl (its status-ok lines).",
)
@click.argument("inputs", nargs=-1)
@click.option("--taxonomy", "taxonomy_path", default=None, help="Taxonomy YAML file.")
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path), help="HEAD.json")
@click.option("--max-tags", default=3, show_default=True, type=click.IntRange(1, 20), help="K.")
@click.option("--folds", default=5, show_default=True, type=click.IntRange(2, 20), help="CV folds.")
@click.option("--threads", type=int, default=None, help="CPU threads for the embedding model.")
def train(
    labels_path: str,
    inputs: tuple[str, ...],
    taxonomy_path: str | None,
    output: Path,
    max_tags: int,
    folds: int,
    threads: int | None,
) -> None:
    """Learn from labels: logistic regression per tag on the MiniLM embeddings, added to the
    zero-shot score. Prints cross-validated micro/macro F1 of zero-shot vs zero-shot + head,
    then writes the head (trained on every label) for `tagger run/eval --head HEAD.json`.

    With a run's OUT.jsonl the abstracts are re-read from INPUTS (default: the run's inputs, as
    OUT.run.json lists them) and the run's model is recorded as the labels' source.
    """
    from tagger.atomic import check_output_path, is_stdout, write_output
    from tagger.config.taxonomy import load_taxonomy
    from tagger.embedded.backends import MiniLMBackend, embedding_fingerprint
    from tagger.embedded.training import (
        build_head,
        check_enough,
        cross_validate,
        encode,
        read_labels,
    )
    from tagger.errors import ConfigError

    to_stdout = is_stdout(output)  # `-o -`: the head on stdout, the report on stderr
    if not to_stdout:
        check_output_path(output)  # a FIFO or device: refused before minutes of training
    taxonomy = load_taxonomy(taxonomy_path)
    labeled = read_labels(labels_path, taxonomy, inputs)
    learnable = check_enough(labeled, taxonomy)
    if len(labeled.papers) < folds:
        raise ConfigError(f"--folds {folds} needs at least {folds} labeled papers.")
    backend = MiniLMBackend(threads=threads)
    encoded = encode(backend, labeled.papers, taxonomy)
    scores = cross_validate(encoded, labeled, taxonomy, max_tags, folds)
    head = build_head(encoded, labeled, taxonomy, embedding_fingerprint(backend.pooling))
    head.cross_validation = scores.as_dict()
    write_output(output, head.model_dump_json() + "\n")
    skipped = len(taxonomy.ids) - len(learnable)
    say = echo_err if to_stdout else click.echo
    say(
        f"{labeled.source}: {len(labeled.papers)} papers; heads for {len(head.tags)} of "
        f"{len(taxonomy.ids)} tags ({skipped} with fewer than 3 positives stay zero-shot)."
    )
    say(f"{folds}-fold cross-validated, max {max_tags} tags:")
    say(
        f"  zero-shot         micro F1 {scores.zero_shot_micro_f1:.3f}  "
        f"macro F1 {scores.zero_shot_macro_f1:.3f}"
    )
    say(
        f"  zero-shot + head  micro F1 {scores.head_micro_f1:.3f}  "
        f"macro F1 {scores.head_macro_f1:.3f}"
    )
    echo_err(f"tagger: head: {'stdout' if to_stdout else output}")
