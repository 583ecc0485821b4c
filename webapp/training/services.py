"""Evaluation of a version on a snapshot, and the promotion gate that decides "better".
Evaluation runs on a worker (it loads models). Runs are in runs.py, the projects' retrain
policies in policies.py; which version is active, and promotion and rollback, are the registry's.

An editor is judged by what the writers finally wanted, never by how often they accepted: on the
snapshot's held-out writing rows, the characters still to fix by hand between the version's
revision and the text the writer kept (inference.final_text, CIPHER's edit cost), and on a fixed
part of the everyday-prose suite's tuning half, how many sentences it harms and how many correct
ones it leaves alone. Proposing nothing leaves all the cost; proposing junk harms everyday prose.
Preference accuracy and predicted acceptance are kept as diagnostics.
"""

import logging
import math
import time
from dataclasses import asdict, dataclass, field

from django.conf import settings

from webapp.registry.models import ModelVersion
from webapp.training.models import DatasetSnapshot, Evaluation, SnapshotRow

logger = logging.getLogger(__name__)

# How far the everyday figures may move the wrong way before the gate refuses a version: about
# four sentences of the 449 it reads, two of the 200 or so correct ones, and two points of the
# corrections the 233 sentences with mistakes need (a version that learned one writer's taste by
# fixing less for everyone is refused, though few held-out rows may not show it).
GATE_HARM_TOLERANCE = 0.01
GATE_UNTOUCHED_TOLERANCE = 0.01
GATE_RECALL_TOLERANCE = 0.02
# A lower total can come from two or three rows of a few dozen: the held-out rows the new version
# leaves less to fix must outnumber those it leaves more, by a one-sided sign test at this level.
GATE_SIGN_TEST_P = 0.1
EDITOR_GATE_FIGURES = ("final_edit_cost_left", "everyday_harm", "everyday_untouched", "everyday_recall")
# A coder has no final text to judge by yet: the first of these both versions have decides.
CODER_COMPARISON_METRICS = ("preference_accuracy",)


def _evaluation_rows(snapshot: DatasetSnapshot) -> list[SnapshotRow]:
    return list(SnapshotRow.objects.filter(snapshot=snapshot, split=SnapshotRow.Split.HELD_OUT).order_by("position"))


def model_version_evaluate(*, version: ModelVersion, snapshot: DatasetSnapshot) -> Evaluation:
    """Measure `version` on the snapshot's held-out rows (worker side: loads the model).
    Editors: preference accuracy on the pairs (how often the version gives the chosen output a
    higher log-probability than the rejected one) and the acceptance rate that replaying the
    held-out writing decisions predicts. Reward models: how often they score chosen above rejected."""
    from inference.editor import GenerationSettings, load_editor_cached
    from inference.replay import ReplayCase, replay_decisions
    from inference.training.common import ModelRef, PreferenceRow
    from inference.training.evaluate import preference_accuracy, reward_accuracy

    started = time.perf_counter()
    rows = _evaluation_rows(snapshot)
    ref = ModelRef(version.base_model, version.adapter_path or None)
    pairs = [row for row in (PreferenceRow(r.prompt, r.chosen, r.rejected) for r in rows) if row.is_pair]
    metrics: dict = {"held_out_rows": len(rows), "pairs": len(pairs)}
    samples: list = []
    row_costs: list = []
    if version.kind == ModelVersion.Kind.REWARD:
        if pairs:
            metrics.update(_prefixed("reward", reward_accuracy(ref, pairs)))
    else:
        if pairs:
            metrics.update(_prefixed("preference", preference_accuracy(ref, pairs)))
        cases = [
            ReplayCase(
                r.meta["instruction_text"],
                r.meta["sentence"],
                [tuple(e) for e in r.meta["accepted"]],
                [tuple(e) for e in r.meta["rejected"]],
                final=r.chosen,  # the sentence as the writer kept it (writing.datasets)
            )
            for r in rows
            if r.source == "writing" and "sentence" in r.meta
        ]
        generation = GenerationSettings(
            batch_size=settings.REDLINE_GENERATION_BATCH_SIZE, lexicon_guard=settings.REDLINE_LEXICON_GUARD
        )
        editor = load_editor_cached(version.base_model, version.adapter_path or None)
        if cases:
            replay = replay_decisions(editor, cases, generation)
            samples = replay.pop("samples")
            row_costs = replay.pop("row_costs")
            metrics.update(replay)
        if version.kind == ModelVersion.Kind.EDITOR:
            metrics.update(everyday_figures(editor, generation))
    evaluation, _ = Evaluation.objects.update_or_create(
        version=version,
        snapshot=snapshot,
        defaults={
            "metrics": metrics,
            "samples": samples,
            "row_costs": row_costs,
            "seconds": round(time.perf_counter() - started, 2),
        },
    )
    return evaluation


def everyday_sentences() -> list:
    """The gate's everyday sentences: an even spread of REDLINE_GATE_EVERYDAY_SENTENCES over the
    suite's tuning half (the held-out half stays for the editor's own figures)."""
    from inference.editor_data.everyday import load_suite

    suite = load_suite("tune")
    wanted = min(settings.REDLINE_GATE_EVERYDAY_SENTENCES, len(suite))
    return [suite[i * len(suite) // wanted] for i in range(wanted)] if wanted else []


def everyday_figures(editor, generation) -> dict:
    """everyday_harm, everyday_untouched, everyday_precision, everyday_recall and everyday_sentences
    of the editor on the gate's everyday sentences (inference.everyday_eval)."""
    from inference.everyday_eval import figures, run_everyday

    sentences = everyday_sentences()
    if not sentences:
        return {}
    outcomes, _ = run_everyday(editor, sentences, generation)
    row = figures(outcomes)
    return {f"everyday_{k}": row[k] for k in ("sentences", "harm", "untouched", "precision", "recall")}


def _prefixed(prefix: str, figures: dict) -> dict:
    """{"accuracy": .7, "n": 10} -> {"preference_accuracy": .7, "preference_n": 10}."""
    return {(k if k.startswith(prefix) else f"{prefix}_{k}"): v for k, v in figures.items()}


@dataclass(frozen=True)
class GateDecision:
    promote: bool
    why: str
    checks: list[dict] = field(default_factory=list)  # name, new, old, passed

    def as_dict(self) -> dict:
        return asdict(self)


def _check(name: str, new, old, passed: bool) -> dict:
    return {"name": name, "new": new, "old": old, "passed": passed}


def sign_test_p(better: int, worse: int) -> float:
    """One-sided sign test: the chance that `better` or more of better + worse rows would favour
    the new version if each were a fair coin."""
    n = better + worse
    return sum(math.comb(n, k) for k in range(better, n + 1)) / 2**n if n else 1.0


def _paired_rows(new: Evaluation, old: Evaluation) -> tuple[int, int] | None:
    """(rows the new version leaves less to fix, rows it leaves more) on the same held-out rows."""
    a, b = new.row_costs, old.row_costs
    if not a or len(a) != len(b):  # an evaluation from before row costs were kept
        return None
    return sum(x < y for x, y in zip(a, b)), sum(x > y for x, y in zip(a, b))


def promotion_gate(new: Evaluation, old: Evaluation | None) -> GateDecision:
    """Whether the version of `new` may replace the active version of `old` (the same snapshot),
    with every check and a sentence saying why. An editor must leave its writers less to fix on
    the held-out rows (strictly in total, and on more rows than it leaves more, by a sign test),
    may not harm more everyday sentences, leave fewer correct ones alone or make fewer of their
    corrections beyond the tolerances, and may not propose nothing at all; a coder must beat the
    active version's preference accuracy."""
    if old is None:
        return GateDecision(False, "the active version has no evaluation on this snapshot to compare with")
    a, b = new.metrics, old.metrics
    if new.version.kind != ModelVersion.Kind.EDITOR:
        for metric in CODER_COMPARISON_METRICS:
            if a.get(metric) is not None and b.get(metric) is not None:
                passed = a[metric] > b[metric]
                verdict = "beats" if passed else "does not beat"
                why = f"{metric.replace('_', ' ')} {a[metric]:.3f} {verdict} the active version's {b[metric]:.3f}"
                return GateDecision(passed, why, [_check(metric, a[metric], b[metric], passed)])
        return GateDecision(False, "no figure that both versions have on this snapshot")
    missing = [k for k in EDITOR_GATE_FIGURES if a.get(k) is None or b.get(k) is None]
    if missing:
        return GateDecision(
            False,
            "not judged: no held-out writing rows or everyday figures to judge by "
            f"({', '.join(k.replace('_', ' ') for k in missing)})",
        )
    checks = [
        _check(
            "edit cost left",
            a["final_edit_cost_left"],
            b["final_edit_cost_left"],
            a["final_edit_cost_left"] < b["final_edit_cost_left"],
        ),
        _check(
            "proposes something",
            a.get("final_untouched_rate"),
            b.get("final_untouched_rate"),
            a.get("final_untouched_rate", 0) < 1 or not a.get("final_documents"),
        ),
        _check(
            "everyday harm",
            a["everyday_harm"],
            b["everyday_harm"],
            a["everyday_harm"] <= b["everyday_harm"] + GATE_HARM_TOLERANCE,
        ),
        _check(
            "everyday untouched",
            a["everyday_untouched"],
            b["everyday_untouched"],
            a["everyday_untouched"] >= b["everyday_untouched"] - GATE_UNTOUCHED_TOLERANCE,
        ),
        _check(
            "everyday fixes",
            a["everyday_recall"],
            b["everyday_recall"],
            a["everyday_recall"] >= b["everyday_recall"] - GATE_RECALL_TOLERANCE,
        ),
    ]
    paired = _paired_rows(new, old)
    rows = ""
    if paired is not None:
        better, worse = paired
        p = sign_test_p(better, worse)
        checks.insert(1, _check("rows with less to fix", better, worse, p <= GATE_SIGN_TEST_P))
        rows = f", {better} held-out rows with less left to fix and {worse} with more (sign test p {p:.2f})"
    cost = (
        f"edit cost left {a['final_edit_cost_left']} characters against the active version's "
        f"{b['final_edit_cost_left']} (of {a.get('final_edit_cost_before')}){rows}"
    )
    everyday = (
        f"everyday harm {100 * a['everyday_harm']:.1f}% (active {100 * b['everyday_harm']:.1f}%), "
        f"untouched {100 * a['everyday_untouched']:.1f}% (active {100 * b['everyday_untouched']:.1f}%), "
        f"fixes {100 * a['everyday_recall']:.1f}% (active {100 * b['everyday_recall']:.1f}%)"
    )
    failed = [c["name"] for c in checks if not c["passed"]]
    if not failed:
        return GateDecision(True, f"{cost}; {everyday}", checks)
    return GateDecision(False, f"fails {', '.join(failed)}: {cost}; {everyday}", checks)
