"""Time from the "Train" click to a promoted version, for 1,000 writer decisions.

Sets up a benchmark database of its own, makes the decisions the way the product does (the
model proposes edits on documents through the writing services, a simulated writer accepts the
edits that match the sentence's real fix and rejects the others), then times what the admin's
click sets off: freezing the snapshot, training (DPO with LoRA by default; the form now starts on SFT),
evaluating the new version and its parent on the held-out rows, and promoting it. Celery runs
the tasks eagerly in this process (the same task code a worker runs), so the figures leave out
only the queue's hand-over, which is milliseconds.

The baseline, measured in the same process on the same machine, is the model's own proposal
rounds that produced the decisions: the ratio says how many such rounds one retraining costs.

    .venv/bin/python bench/train_to_promotion.py [--decisions 1000] [--model PATH] [--method dpo] [--epochs 1]
"""

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import django_setup

DATABASE_URL = "postgres://postgres@127.0.0.1:5432/redline_bench_promotion"
SENTENCES_PER_DOCUMENT = 10


def documents_texts(count: int, seed: int, passes: int = 4) -> list[tuple[str, list[str]]]:
    """(text, clean sentences) of up to `count` documents made of held-out corpus sentences, each
    with one error of a trained type (inference.editor_data). The held-out sentences are used
    again, with another error, for up to `passes` passes: one pass gives about 700 decisions."""
    from inference.editor_data import noise
    from inference.editor_data.examples import corrupt, load_resources

    resources = load_resources()
    rng = random.Random(seed)
    sentences = list(resources.corpus.held_out)
    rng.shuffle(sentences)
    made, cursor, end = [], 0, passes * len(sentences)
    while len(made) < count and cursor < end:
        clean, noisy = [], []
        while len(clean) < SENTENCES_PER_DOCUMENT and cursor < end:
            sentence = sentences[cursor % len(sentences)]
            cursor += 1
            corrupted = corrupt(rng.choice(noise.ERROR_TYPES), sentence, rng, resources, held_out=True)
            if corrupted is not None:
                clean.append(sentence)
                noisy.append(corrupted)
        made.append((" ".join(noisy), clean))
    return made


def decide_like_a_writer(iteration, clean: list[str], user) -> int:
    """Accept the edits that are part of the sentence's real fix, reject the rest; apply."""
    from inference.diffing import diff_words
    from inference.sentences import sentence_spans
    from webapp.writing import services

    text = iteration.text_before
    right = set()
    for (start, end), target in zip(sentence_spans(text), clean):
        right |= {(e.start, e.end, e.after) for e in diff_words(text[start:end], target, offset=start)}
    decided = 0
    for proposal in iteration.proposals.order_by("index"):
        verdict = "accept" if (proposal.start_char, proposal.end_char, proposal.after) in right else "reject"
        services.proposal_decide(proposal=proposal, user=user, verdict=verdict)
        decided += 1
    services.iteration_apply(iteration=iteration, user=user)
    return decided


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--decisions", type=int, default=1000)
    parser.add_argument("--model", help="the model to start from (default: the built-in editor, REDLINE_MODEL)")
    parser.add_argument("--method", choices=["sft", "dpo"], default="dpo")
    parser.add_argument("--epochs", type=float, default=1)
    parser.add_argument("--held-out", type=int, default=10, help="percent of rows held out for the evaluation")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    import torch

    torch.set_num_threads(args.threads)
    # The documents first: building the corpus finds packages by import spec, which fails once
    # Django has started the Celery app (kombu's module spec is None then).
    texts = documents_texts(args.decisions, args.seed)
    django_setup(DATABASE_URL)
    from django.conf import settings
    from django.core.management import call_command

    from webapp.accounts.roles import ADMIN, WRITER
    from webapp.accounts.services import user_create
    from webapp.celery import app
    from webapp.training.models import ModelVersion, TrainingRun
    from webapp.training.runs import training_run_start
    from webapp.training.services import model_version_activate, model_version_promote
    from webapp.writing import services

    app.conf.task_always_eager = True  # a task sent on commit runs right here, as a worker would run it
    call_command("flush", interactive=False, verbosity=0)
    call_command("migrate", verbosity=0, interactive=False)  # the roles come back with post_migrate
    settings.REDLINE_MODEL_DIR = str(Path(settings.BASE_DIR) / "var" / "bench-models")
    writer = user_create(username="bench-writer", password="bench-password-1", role=WRITER)
    admin = user_create(username="bench-admin", password="bench-password-1", role=ADMIN)
    model = args.model or settings.REDLINE_DEFAULT_MODEL
    base = model_version_activate(version=ModelVersion.objects.create(name="built-in editor", base_model=model))

    print(
        f"model: {model}; making {args.decisions} decisions (the model proposes, a simulated writer decides)...",
        flush=True,
    )
    decisions = sentences = 0
    propose_seconds = 0.0
    for text, clean in texts:
        if decisions >= args.decisions:
            break
        document = services.document_create(owner=writer, text=text)
        started = time.perf_counter()
        iteration = services.iteration_start(document=document, user=writer)  # generates on commit
        propose_seconds += time.perf_counter() - started
        sentences += len(clean)
        iteration.refresh_from_db()
        if iteration.status == "review":
            decisions += decide_like_a_writer(iteration, clean, writer)
    if decisions < args.decisions:
        print(f"only {decisions} decisions could be made from the held-out sentences", flush=True)

    print(
        f"{decisions} decisions on {sentences} sentences; proposing took {propose_seconds:.1f} s. Train click...",
        flush=True,
    )
    clicked = time.perf_counter()
    run = training_run_start(
        user=admin, method=args.method, held_out_percent=args.held_out, settings_overrides={"num_epochs": args.epochs}
    )  # trains and evaluates on commit
    run = TrainingRun.objects.select_related("snapshot").get(pk=run.pk)
    trained_and_evaluated_s = time.perf_counter() - clicked
    if run.status != "succeeded":
        print(f"the run {run.status}: {run.error}")
        return 1
    version = ModelVersion.objects.get(training_run=run)
    model_version_promote(version=version, user=admin, reason="benchmark")
    total_s = time.perf_counter() - clicked
    train_s = run.metrics.get("train_runtime_s") or 0.0
    evaluations = {e.version.name: e.metrics for e in version.snapshot.evaluations.select_related("version")}

    rows = [
        ("decisions", decisions),
        ("snapshot rows (train / held out)", f"{run.snapshot.train_count} / {run.snapshot.held_out_count}"),
        ("method", f"{run.method.upper()} {run.finetune}, {run.step} steps, {run.device}"),
        ("training (trainer's own time)", f"{train_s:.1f} s"),
        ("snapshot + load + train + evaluate both", f"{trained_and_evaluated_s:.1f} s"),
        ("click -> promoted version", f"{total_s:.1f} s"),
        ("baseline: proposing the rounds", f"{propose_seconds:.1f} s for {sentences} sentences"),
        ("ratio (click -> promoted / baseline)", f"x{total_s / propose_seconds:.2f}" if propose_seconds else "-"),
    ]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
    for name, metrics in evaluations.items():
        shown = {
            k: metrics.get(k)
            for k in ("preference_accuracy", "predicted_acceptance", "accepted_recall", "rejected_repeat")
        }
        print(f"evaluation of {name}: {shown}")
    print(
        f"active version now: {ModelVersion.objects.get(is_active=True, kind=ModelVersion.Kind.EDITOR).name} "
        f"(was {base.name})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
