"""The flywheel: simulated writers decide on the model's proposals, the model is retrained on
those decisions, and the next round proposes with the version the product's gate promoted.

Each writer has a hidden, consistent preference of its own kind (WRITERS): slide bullets that
never end with a period; notes that start in lower case; list items that end in a semicolon,
typed without one; spelling fixes only, the grammar being theirs. They draft each line with one
mistake of a trained type, accept an edit only when it moves the line toward what they want,
reject every other (the editor's final period, a capital or a grammar fix they do not want),
and then type in by hand what is still missing, so that their document ends as they want it:
the final text that retraining learns from and the promotion gate judges by. Each preference
holds for their lines only: learning it must not change what the editor does to other people's
prose, which the gate checks on the everyday suite.

Each round a new batch of lines (held-out corpus sentences) goes through the product's own code,
in this process, on a database of its own per writer: `document_create`, `iteration_start`,
`iteration_generate` (what the gpu-queue worker runs), `proposal_decide` for each verdict,
`iteration_apply` and `document_text_edit`; then `training_run_start` with "promote if better"
and `training_run_execute` (a snapshot of every decision so far, SFT or DPO with LoRA from the
active version, the new version evaluated with the active one on the snapshot's held-out rows and
on everyday prose, and the promotion gate's decision). The simulated writer's verdicts never
decide a promotion. A fixed probe batch per writer, never decided on, is judged with every
version to compare them: acceptance, edit cost left (characters still to fix with the wanted
edits applied), unwanted proposals, lines left untouched.

    .venv/bin/python bench/flywheel.py                      # the built-in editor, four writers
    .venv/bin/python bench/flywheel.py --memory             # the product as it is (one writer account)
    .venv/bin/python bench/flywheel.py --best-of 4          # and a reward model's best-of-4 on the probe
    .venv/bin/python bench/flywheel.py --writers bullets --method dpo --sentences 240 --probe 200

With --memory one writer account goes through every round, and the probe is proposed through that
writer's preference model as it stands when the round starts; without it each round has a new
account (its preference model learns within the round only) and the probe gets every edit.
bench/flywheel_report.py runs the configurations the README reports.

Needs Postgres, like the other benches, but no Celery worker and no Redis: the tasks the services
send on commit go to an in-memory broker that nobody reads, and the bench calls the worker-side
services itself. The database (default `redline_bench_flywheel`) and the directory of trained
versions (var/flywheel-models/<database>) are made afresh for each writer and removed at the end unless
--keep (which keeps the last writer's).
"""

import argparse
import json
import os
import random
import shutil
import sys
import time
import warnings
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit
from xml.sax.saxutils import escape

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import BENCH_DATABASE_URL, ROOT  # noqa: E402
from inference.diffing import EditAction, apply_edits  # noqa: E402

BULLET_SEPARATOR = "\n\n"  # a blank line: sentence_spans splits there, so each bullet is revised alone
END_PUNCTUATION = ".!?;:,"
MODEL_DIR = ROOT / "var" / "flywheel-models"
INSTRUCTION = "fix_grammar"
# The injected error types (inference.editor_data.noise), all of which the built-in editor is trained
# to fix. Punctuation errors are left out, so that punctuation is only ever a writer's preference.
ERROR_TYPES = ("misspelling", "doubled_word", "dropped_word", "agreement", "article", "capitalisation")


# Bullets and the writer ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Bullet:
    """A line as the writer drafted it (with one error) and as they want it."""

    text: str
    target: str
    error: str  # the injected error type


@dataclass(frozen=True)
class Writer:
    """A simulated writer with a hidden, consistent preference. They draft each line with one
    mistake of a trained type and want `target_of(sentence)`. They accept an edit only when it
    moves the line toward the target, reject every other, and after the round fix by hand what
    is still missing, so that their final text is the target."""

    name: str
    preference: str
    error_types: tuple[str, ...] = ERROR_TYPES

    def target_of(self, sentence: str) -> str | None:
        """The line they want for a clean corpus sentence (by default the sentence itself);
        None: they would not write it."""
        return sentence

    def draft_of(self, target: str) -> str:
        """The line as they would type it before any mistake."""
        return target

    def wanted(self, target: str, drafted: str, error: str) -> str:
        """What they want of a line drafted with a mistake of kind `error`: the target."""
        return target

    def verdict(self, sentence: str, target: str, edit: EditAction) -> tuple[str, str]:
        """("accept" or "reject", why): why is "fix", "end punctuation" or "other". An edit is
        a fix when, applied alone, it brings the line closer to the target (as
        inference.final_text counts helpful edits): however the model groups its changes."""
        if levenshtein(apply_edits(sentence, [edit]), target) < levenshtein(sentence, target):
            return "accept", "fix"
        if end_punctuation_only(sentence, edit):
            return "reject", "end punctuation"
        return "reject", "other"


def _without_period(sentence: str) -> str:
    return sentence[:-1] if sentence.endswith(".") else sentence


class BulletWriter(Writer):
    """Writes slide bullets and never wants a final period (the built-in editor adds one)."""

    def __init__(self):
        super().__init__("bullets", "slide bullets, never a final period")

    def target_of(self, sentence: str) -> str | None:
        return _without_period(sentence)


class LowercaseWriter(Writer):
    """Keeps notes that start in lower case and end with a period: the capital the editor gives
    a first word is unwanted."""

    def __init__(self):
        # A lower-case first word is their style, so it is never the injected mistake.
        super().__init__(
            "lowercase", "notes start in lower case", tuple(e for e in ERROR_TYPES if e != "capitalisation")
        )

    def target_of(self, sentence: str) -> str | None:
        first = sentence.split(" ", 1)[0]
        if len(first) < 2 or not first[0].isupper() or not first[1:].islower():
            return None  # "I", acronyms and names of one letter keep their capitals
        return sentence[0].lower() + sentence[1:]


class SemicolonWriter(Writer):
    """Writes list items that end in a semicolon, and types them with none: the editor's
    period is wrong, and the semicolon is theirs to add until the model learns it."""

    def __init__(self):
        super().__init__("semicolons", "list items end in a semicolon")

    def target_of(self, sentence: str) -> str | None:
        return _without_period(sentence) + ";"

    def draft_of(self, target: str) -> str:
        return target[:-1]


class SpellingOnlyWriter(Writer):
    """Wants their spelling fixed and nothing else: what the editor takes for a grammar mistake
    (an article, an agreement, a doubled or missing word) is how they mean it."""

    def __init__(self):
        super().__init__("spelling", "only spelling fixes; the grammar is theirs")

    def wanted(self, target: str, drafted: str, error: str) -> str:
        return target if error == "misspelling" else drafted


WRITERS = {w.name: w for w in (BulletWriter(), LowercaseWriter(), SemicolonWriter(), SpellingOnlyWriter())}


def bullet_from(sentence: str, rng: random.Random, resources, writer: Writer | None = None) -> Bullet | None:
    """The writer's line for a clean sentence with one injected error of a trained type (held-out
    misspellings only); None when the writer would not write it or no error has a place in it."""
    from inference.editor_data.examples import corrupt

    writer = writer or BulletWriter()
    target = writer.target_of(sentence)
    if target is None:
        return None
    typed = writer.draft_of(target)
    for error in rng.sample(writer.error_types, len(writer.error_types)):
        drafted = corrupt(error, typed, rng, resources, held_out=True)
        if drafted is not None and drafted != typed and _same_ending(drafted, typed):
            return Bullet(drafted, writer.wanted(target, drafted, error), error)
    return None


def _same_ending(drafted: str, typed: str) -> bool:
    """The mistake leaves the end punctuation alone: that is only ever the writer's preference."""

    def ending(text: str) -> str:
        return text[len(text.rstrip(END_PUNCTUATION)) :]

    return ending(drafted) == ending(typed)


def end_punctuation_only(sentence: str, edit: EditAction) -> bool:
    """The edit only adds, removes or changes punctuation at the end of the sentence."""
    if edit.end != len(sentence):
        return False
    return edit.before != edit.after and edit.before.rstrip(END_PUNCTUATION) == edit.after.rstrip(END_PUNCTUATION)


def levenshtein(a: str, b: str) -> int:
    """Characters to insert, delete or replace to turn a into b (the same distance as
    inference/final_text.py, which judges versions by the writer's final text)."""
    from rapidfuzz.distance import Levenshtein

    return Levenshtein.distance(a, b)


def edit_cost(text: str, bullets: list["Bullet"]) -> int:
    """Characters between a document's text and the writer's target, bullet by bullet: the work
    left to do by hand."""
    pieces = text.split(BULLET_SEPARATOR)
    if len(pieces) != len(bullets):  # never expected: edits stay inside a sentence
        return levenshtein(text, BULLET_SEPARATOR.join(b.target for b in bullets))
    return sum(levenshtein(piece, b.target) for piece, b in zip(pieces, bullets))


@dataclass
class Tally:
    """What the writer decided on a batch."""

    proposals: int = 0
    accepted: int = 0
    rejected: int = 0
    end_punctuation: int = 0  # proposals that only touch the end punctuation (all rejected)
    other_rejected: int = 0
    cost_before: int = 0
    cost_after: int = 0  # the edit cost left: characters still to fix with the wanted edits applied
    lines: int = 0
    untouched: int = 0  # lines with no proposal

    @property
    def acceptance(self) -> float | None:
        return self.accepted / self.proposals if self.proposals else None

    @property
    def cost_reduction(self) -> float | None:
        """The share of the writer's fixing the proposals did: 0 for proposing nothing."""
        return 1 - self.cost_after / self.cost_before if self.cost_before else None

    def add(self, other: "Tally") -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def as_dict(self) -> dict:
        return asdict(self) | {"acceptance": self.acceptance, "cost_reduction": self.cost_reduction}


@dataclass(frozen=True)
class Slide:
    """A document of bullets, one blank line between them."""

    bullets: list[Bullet]

    @property
    def text(self) -> str:
        return BULLET_SEPARATOR.join(b.text for b in self.bullets)

    def spans(self) -> list[tuple[int, int]]:
        spans, start = [], 0
        for b in self.bullets:
            spans.append((start, start + len(b.text)))
            start += len(b.text) + len(BULLET_SEPARATOR)
        return spans


def judge(writer: Writer, slide: Slide, edits: list[EditAction]) -> tuple[list[str], Tally]:
    """The writer's verdict on each edit of the slide (in order) and the tally, costs included."""
    spans = slide.spans()
    verdicts, tally, accepted = [], Tally(proposals=len(edits), lines=len(spans)), []
    touched = set()
    for edit in edits:
        i = next(i for i, (s, e) in enumerate(spans) if s <= edit.start and edit.end <= e)
        touched.add(i)
        s = spans[i][0]
        local = EditAction(edit.action, edit.start - s, edit.end - s, edit.before, edit.after)
        verdict, why = writer.verdict(slide.bullets[i].text, slide.bullets[i].target, local)
        verdicts.append(verdict)
        if verdict == "accept":
            tally.accepted += 1
            accepted.append(edit)
        else:
            tally.rejected += 1
            tally.end_punctuation += why == "end punctuation"
            tally.other_rejected += why == "other"
    tally.cost_before = edit_cost(slide.text, slide.bullets)
    tally.cost_after = edit_cost(apply_edits(slide.text, accepted), slide.bullets)
    tally.untouched = len(spans) - len(touched)
    return verdicts, tally


def draw_bullets(
    seed: int, probe: int, rounds: int, per_round: int, resources, writer: Writer | None = None
) -> tuple[list[Bullet], list[list[Bullet]]]:
    """A fixed, seeded split: the probe batch (judged every round, never decided on) and a new
    batch for each round, all from sentences the built-in editor never trained on (its held-out
    corpus sentences); a larger request goes on into the training sentences, which a model other
    than the built-in editor has not seen either."""
    writer = writer or BulletWriter()
    rng = random.Random(seed)
    held, train = list(resources.corpus.held_out), list(resources.corpus.train)
    rng.shuffle(held)
    rng.shuffle(train)
    needed = probe + rounds * per_round
    bullets: list[Bullet] = []
    for sentence in held + train:
        if len(bullets) == needed:
            break
        bullet = bullet_from(sentence, random.Random(f"{seed}:{sentence}"), resources, writer)
        if bullet is not None:
            bullets.append(bullet)
    if len(bullets) < needed:
        raise SystemExit(f"flywheel: only {len(bullets)} sentences for writer {writer.name}; ask for fewer.")
    if needed > len(held):
        print(f"note: {needed - len(held)} of the {needed} sentences are the built-in editor's training sentences")
    batches = [bullets[probe + k * per_round : probe + (k + 1) * per_round] for k in range(rounds)]
    return bullets[:probe], batches


def slides_of(bullets: list[Bullet], per_slide: int) -> list[Slide]:
    return [Slide(bullets[i : i + per_slide]) for i in range(0, len(bullets), per_slide)]


# The database -------------------------------------------------------------------------------------


def flywheel_database_url() -> str:
    """The benches' database URL (REDLINE_BENCH_DATABASE_URL) with "_flywheel" after its name:
    this bench drops and recreates its database, so it does not share the others'."""
    parts = urlsplit(os.environ.get("REDLINE_BENCH_DATABASE_URL", BENCH_DATABASE_URL))
    return urlunsplit(parts._replace(path=parts.path + "_flywheel"))


def _maintenance_connection(database_url: str):
    import dj_database_url
    import psycopg

    db = dj_database_url.parse(database_url)
    params = {"host": db["HOST"], "port": db["PORT"], "user": db["USER"], "password": db["PASSWORD"]}
    return db["NAME"], psycopg.connect(dbname="postgres", autocommit=True, **{k: v for k, v in params.items() if v})


def database_drop(database_url: str) -> None:
    """Drop the bench's database. Only a database whose name says it is a bench's is dropped."""
    from psycopg import sql

    name, conn = _maintenance_connection(database_url)
    if "bench" not in name:
        raise SystemExit(f"flywheel: refusing to drop database {name!r}; its name must contain 'bench'.")
    with conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


# One round through the product --------------------------------------------------------------------


@dataclass
class RoundResult:
    writer: str
    round: int
    version_id: int
    version: str
    tally: Tally
    probe: Tally | None = None
    dropped_by_memory: int = 0
    generate_s: float = 0.0
    train_s: float | None = None
    run_id: int | None = None
    candidate_id: int | None = None
    candidate: str = ""
    run_metrics: dict = field(default_factory=dict)
    evaluation: dict = field(default_factory=dict)
    candidate_probe: Tally | None = None
    promoted: str = ""
    gate: str = ""  # the product's promotion gate: why the candidate was or was not promoted
    # With --best-of: the probe with the reward model trained after the round before picking each
    # line's revision among several (inference.best_of_n), the same version proposing.
    probe_best_of: Tally | None = None
    reward: str = ""
    reward_metrics: dict = field(default_factory=dict)


def short_name(version) -> str:
    """ "#3 run 2" for "run 2: DPO (lora) on run 1: ..." (names nest one level per round)."""
    return f"#{version.pk} {version.name.split(':')[0]}"


def propose_and_decide(slides: list[Slide], writer: Writer, user, round_no: int) -> tuple[Tally, int, int, str]:
    """The round on the product's code: a document per slide, a model round on each generated
    in-process, the writer's verdicts recorded, the accepted edits applied, and then the writer's
    own fixes typed in, so that the document ends as they want it. Returns the tally, the edits
    the writer's memory dropped, and the id and name of the version that proposed."""
    from webapp.writing.models import Iteration
    from webapp.writing.services import (
        document_create,
        document_text_edit,
        iteration_apply,
        iteration_generate,
        iteration_start,
        proposal_decide,
    )

    tally, dropped, version = Tally(), 0, None
    for j, slide in enumerate(slides, 1):
        document = document_create(owner=user, text=slide.text, title=f"Round {round_no}, slide {j}")
        iteration = iteration_start(document=document, user=user, instruction=INSTRUCTION)
        iteration_generate(iteration_id=iteration.pk)  # what the gpu-queue worker would run
        iteration = Iteration.objects.select_related("model_version").get(pk=iteration.pk)
        if iteration.status == Iteration.Status.FAILED:
            raise RuntimeError(f"generation failed: {iteration.error}")
        assert [tuple(s) for s in _spans(iteration.text_before)] == slide.spans(), "a bullet was split or merged"
        version = iteration.model_version
        dropped += iteration.generation_settings.get("dropped_as_rejected_on_similar", 0)
        proposals = list(iteration.proposals.order_by("index"))
        edits = [EditAction(p.action, p.start_char, p.end_char, p.before, p.after) for p in proposals]
        verdicts, slide_tally = judge(writer, slide, edits)
        for proposal, verdict in zip(proposals, verdicts):
            proposal_decide(proposal=proposal, user=user, verdict=verdict, via="flywheel")
        if iteration.status == Iteration.Status.REVIEW:
            iteration_apply(iteration=iteration, user=user)
        iteration.refresh_from_db()
        assert edit_cost(iteration.text_after, slide.bullets) == slide_tally.cost_after
        wanted = BULLET_SEPARATOR.join(b.target for b in slide.bullets)
        if iteration.text_after != wanted:
            document.refresh_from_db()
            document_text_edit(document=document, user=user, text=wanted)
        tally.add(slide_tally)
    return tally, dropped, version.pk, short_name(version)


def _spans(text: str) -> list[tuple[int, int]]:
    from inference.sentences import sentence_spans

    return sentence_spans(text)


def probe_measure(
    version, slides: list[Slide], writer: Writer, cache: dict, account=None, reward=None, best_of: int = 1
) -> Tally:
    """The writer's verdicts on `version`'s proposals for the probe slides, recorded nowhere: the
    same model, prompt, generation settings and diff as a round (inference.revision); with
    `account`, only the edits that account's preference model would propose to them (as a round
    for that writer would) and their own respellings, else every edit; with a `reward` version
    and `best_of` above 1, the reward model picks each line's revision among that many.
    Remembered per version, preference, respellings and reward model."""
    from django.conf import settings

    from inference.editor import GenerationSettings, load_editor_cached
    from inference.instructions import INSTRUCTIONS
    from inference.revision import revise_document
    from webapp.writing.services import (
        WriterMemory,
        edits_split_by_preference,
        edits_with_corrections,
        writer_preference_memory,
    )

    memory = writer_preference_memory(user=account) if account is not None else WriterMemory()
    reranking = reward is not None and best_of > 1
    key = (
        version.pk,
        memory.preference.decisions if memory.preference is not None else 0,
        len(memory.corrections or ()),
        (reward.pk, best_of) if reranking else None,
    )
    if key in cache:
        return cache[key]
    best = None
    if reranking:
        from inference.best_of_n import BestOfN
        from inference.training.common import ModelRef
        from inference.training.evaluate import RewardScorer

        best = BestOfN(RewardScorer(ModelRef(reward.base_model, reward.adapter_path or None)), n=best_of)

    editor = load_editor_cached(version.base_model, version.adapter_path or None)
    generation = GenerationSettings(batch_size=settings.REDLINE_GENERATION_BATCH_SIZE)
    instruction = INSTRUCTIONS[INSTRUCTION]
    tally = Tally()
    for slide in slides:
        revision = revise_document(editor, slide.text, instruction.prompt, instruction.intent, generation, best_of=best)
        edits = edits_with_corrections(slide.text, revision.edits, memory)
        proposed, _ = edits_split_by_preference(slide.text, edits, memory)
        _, slide_tally = judge(writer, slide, proposed)
        tally.add(slide_tally)
    cache[key] = tally
    return tally


def retrain(
    admin, method: str, overrides: dict, held_out_percent: int, gate: bool, base_version=None, finetune: str = "lora"
) -> tuple:
    """A training run as the admin screen starts it (a snapshot of every decision so far, from
    the active version; with `gate`, "promote if better", which the product's promotion gate
    decides), executed here as the gpu-queue worker would. Returns the run, the new version, its
    evaluation figures and the seconds it took."""
    from webapp.training.models import TrainingRun
    from webapp.training.runs import training_run_execute, training_run_start

    started = time.perf_counter()
    run = training_run_start(
        user=admin,
        method=method,
        finetune=finetune,
        settings_overrides=overrides,
        held_out_percent=held_out_percent,
        promote_if_better=gate,
        trigger="flywheel",
        base_version=base_version,
    )
    training_run_execute(run_id=run.pk)
    seconds = time.perf_counter() - started
    run = TrainingRun.objects.get(pk=run.pk)
    if run.status != TrainingRun.Status.SUCCEEDED:
        raise RuntimeError(f"training run {run.pk} {run.status}: {run.error or run.log}")
    version = run.version
    evaluation = version.evaluations.filter(snapshot=run.snapshot).first()
    return run, version, evaluation.metrics if evaluation else {}, seconds


# Output -------------------------------------------------------------------------------------------


def _fmt(value, spec: str = ".3f") -> str:
    return "-" if value is None else format(value, spec)


TABLE_COLUMNS = (
    ("writer", 10),
    ("round", 5),
    ("proposed by", 12),
    ("proposals", 9),
    ("acceptance", 10),
    ("cost left", 9),
    ("probe acc.", 10),
    ("probe cost left", 15),
    ("unwanted", 8),
    ("untouched", 9),
    ("train s", 7),
    ("new version", 12),
    ("promoted", 8),
)


def table_header() -> str:
    head = " ".join(name.rjust(width) for name, width in TABLE_COLUMNS)
    return head + "\n" + "-" * len(head)


def table_row(r: RoundResult) -> str:
    """One round: the new lines' acceptance and edit cost left; on the probe, acceptance, edit
    cost left (of the cost before), unwanted proposals and lines left untouched."""
    t, p = r.tally, r.probe
    cells = (
        r.writer,
        str(r.round),
        r.version,
        str(t.proposals),
        _fmt(t.acceptance),
        f"{t.cost_after}/{t.cost_before}",
        _fmt(p.acceptance if p else None),
        f"{p.cost_after}/{p.cost_before}" if p else "-",
        str(p.rejected) if p else "-",
        _fmt(p.untouched / p.lines if p and p.lines else None, ".2f"),
        _fmt(r.train_s, ".0f"),
        r.candidate or "-",
        r.promoted or "-",
    )
    return " ".join(cell.rjust(width) for cell, (_, width) in zip(cells, TABLE_COLUMNS))


def write_json(path: Path, config: dict, results: list[RoundResult], seconds: float) -> None:
    rounds = []
    for r in results:
        row = asdict(r)
        row["tally"] = r.tally.as_dict()
        for name in ("probe", "candidate_probe", "probe_best_of"):
            tally = getattr(r, name)
            row[name] = tally.as_dict() if tally else None
        rounds.append(row)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"config": config, "seconds": round(seconds, 1), "rounds": rounds}, indent=2) + "\n")


def _panel(chart, title: str, y_offset: int) -> list[str]:
    """One chart of webapp.core.charts.line_chart as SVG elements under its title and legend,
    shifted down by y_offset."""
    out = [
        f'<g transform="translate(0,{y_offset})">',
        f'<text x="{chart.left}" y="12" font-weight="bold">{escape(title)}</text>',
    ]
    legend_x = chart.left
    for s in chart.series:
        out.append(f'<rect x="{legend_x}" y="20" width="10" height="10" fill="{s.color}"/>')
        out.append(f'<text x="{legend_x + 14}" y="29">{escape(s.name)}</text>')
        legend_x += 24 + 7 * len(s.name)
    out.append('<g transform="translate(0,36)">')
    for y, label in chart.y_ticks:
        out.append(f'<line x1="{chart.left}" x2="{chart.right}" y1="{y}" y2="{y}" stroke="#e5e7eb"/>')
        out.append(f'<text x="{chart.left - 6}" y="{y + 4}" text-anchor="end">{escape(label)}</text>')
    for x, label in chart.x_ticks:
        out.append(f'<text x="{x}" y="{chart.bottom + 16}" text-anchor="middle">{escape(label)}</text>')
    out.append(f'<line x1="{chart.left}" x2="{chart.right}" y1="{chart.bottom}" y2="{chart.bottom}" stroke="#6b7280"/>')
    for s in chart.series:
        out.append(f'<polyline points="{s.path}" fill="none" stroke="{s.color}" stroke-width="2"/>')
        for cx, cy, tip in s.dots:
            out.append(f'<circle cx="{cx}" cy="{cy}" r="3.5" fill="{s.color}"><title>{escape(tip)}</title></circle>')
    out.append("</g></g>")
    return out


def write_plot(path: Path, results: list[RoundResult], subtitle: str) -> None:
    """Per round and writer, on the fixed probe: the acceptance rate, and the edit cost left as a
    share of the cost before any edit (1: the model did none of the writer's fixing), as one SVG
    of two charts."""
    from webapp.core.charts import Series, line_chart

    writers = list(dict.fromkeys(r.writer for r in results))

    def series(name: str, value) -> Series:
        points = [(float(r.round), value(r)) for r in results if r.writer == name]
        return Series(name, [(x, y) for x, y in points if y is not None])

    rounds = sorted({r.round for r in results})
    ticks = [(float(k), str(k)) for k in rounds]
    acceptance = [series(w, lambda r: r.probe.acceptance if r.probe else None) for w in writers]
    cost = [
        series(w, lambda r: r.probe.cost_after / r.probe.cost_before if r.probe and r.probe.cost_before else None)
        for w in writers
    ]
    width, height, panel = 720, 230, 230 + 56
    top = line_chart(acceptance, width=width, height=height, y_range=(0, 1), x_ticks=ticks)
    bottom = line_chart(cost, width=width, height=height, y_range=(0, 1.2), x_ticks=ticks)
    total = 34 + 2 * panel
    svg = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{total}" viewBox="0 0 {width} {total}" '
        'font-family="sans-serif" font-size="12">',
        '<rect width="100%" height="100%" fill="white"/>',
        f'<text x="12" y="20" font-size="14" font-weight="bold">Redline flywheel: {escape(subtitle)}</text>',
    ]
    svg += _panel(top, "Acceptance on the probe, per writer", 34)
    svg += _panel(bottom, "Edit cost left on the probe, as a share of the cost before any edit", 34 + panel)
    svg.append(f'<text x="{width // 2}" y="{total - 4}" text-anchor="middle">round</text>')
    svg.append("</svg>")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(svg) + "\n")


# Main ---------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--model", help="causal LM (local path or Hugging Face id); default: the built-in editor (REDLINE_MODEL)"
    )
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--sentences", type=int, default=120, help="new bullets per round")
    parser.add_argument(
        "--probe", type=int, default=64, help="bullets of the fixed probe batch, judged every round (0: none)"
    )
    parser.add_argument("--bullets-per-slide", type=int, default=16, help="bullets per document")
    parser.add_argument("--method", choices=("dpo", "sft"), default="sft")
    parser.add_argument("--finetune", choices=("lora", "full"), default="lora")
    # A fixed number of steps: every run costs the same, and the decisions of early rounds (all of
    # them are in every snapshot) are not trained on again and again as the data grows.
    parser.add_argument("--steps", type=int, default=30, help="optimizer steps per run (-1: train for --epochs)")
    parser.add_argument("--epochs", type=float, default=3, help="passes over the snapshot when --steps is -1")
    # Measured (SFT, LoRA r 16, 30 steps): 3e-3 left the bullets writer 33 characters to fix on the
    # probe where the built-in editor left 9; 1e-3 and 5e-4 left 15, and 1e-3 cut the semicolons
    # writer's 70 to 20.
    parser.add_argument("--learning-rate", type=float, default=1e-3)
    parser.add_argument("--beta", type=float, default=0.2, help="DPO beta")
    parser.add_argument("--loss-type", default="sigmoid", help="DPO loss: one of TRL's, or several joined by '+'")
    parser.add_argument("--lora-r", type=int, default=16)
    parser.add_argument(
        "--anchor-share", type=float, default=3.0, help="general-English rows mixed in per decision row (rehearsal)"
    )
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument(
        "--promote",
        choices=("gate", "always"),
        default="gate",
        help="gate: as the product decides (its promotion gate, on the snapshot's held-out rows and everyday prose); "
        "the probe and the simulated writer's verdicts never decide",
    )
    parser.add_argument(
        "--writers",
        nargs="+",
        choices=sorted(WRITERS),
        default=list(WRITERS),
        help="the simulated writers, each with a hidden preference of its own (default: all)",
    )
    parser.add_argument(
        "--no-retrain",
        action="store_true",
        help="never retrain: with --memory, what the writer's memory and preference model alone do round by round",
    )
    parser.add_argument("--held-out", type=int, default=20, help="percent of each snapshot's rows the gate judges on")
    parser.add_argument(
        "--memory",
        action="store_true",
        help="one writer account for every round, so the writer's memory of similar decisions also filters proposals "
        "(default: a new account of the same writer each round, so only retraining changes the proposals)",
    )
    parser.add_argument(
        "--no-preference-model",
        action="store_true",
        help="with --memory: without the writer's preference model (REDLINE_PREFERENCE_MODEL=0), to compare",
    )
    parser.add_argument(
        "--best-of",
        type=int,
        default=1,
        help="above 1: after each round also train a reward model on the snapshot, and measure the probe with it "
        "picking each line's revision among this many (greedy and sampled); 1: greedy only",
    )
    parser.add_argument("--reward-steps", type=int, default=60, help="optimizer steps of each reward-model run")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    parser.add_argument(
        "--database", help="Postgres URL; dropped and recreated (default: the benches' URL with _flywheel)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the database and the trained versions afterwards")
    parser.add_argument("--json", type=Path, default=ROOT / "var" / "flywheel.json")
    parser.add_argument("--plot", type=Path, default=ROOT / "var" / "flywheel.svg")
    args = parser.parse_args(argv)
    if not 1 <= args.held_out <= 50:
        parser.error("--held-out is a percent from 1 to 50")
    if args.best_of < 1:
        parser.error("--best-of is at least 1")
    return args


def configure_environment(args: argparse.Namespace, database_url: str) -> None:
    """Settings are read from the environment when Django starts: the model, where trained
    versions go, and an in-memory Celery broker (tasks sent on commit reach no worker)."""
    if args.model:
        os.environ["REDLINE_MODEL"] = args.model
    # A directory per database, so that two runs on different databases keep apart.
    os.environ["REDLINE_MODEL_DIR"] = str(MODEL_DIR / urlsplit(database_url).path.strip("/"))
    os.environ["CELERY_BROKER_URL"] = "memory://localhost/"
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("REDLINE_LOG_LEVEL", "WARNING")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "webapp.settings")
    if args.no_preference_model:
        os.environ["REDLINE_PREFERENCE_MODEL"] = "0"


def check_trainable(model: str) -> None:
    """Exit with a clear message unless TRL can retrain the model (a causal LM)."""
    from inference.training.common import ModelRef, TrainingError, check_causal

    try:
        check_causal(ModelRef(model))
    except TrainingError as exc:
        raise SystemExit(
            f"flywheel: the flywheel retrains the model, and TRL retrains causal LMs only. {exc}"
        ) from None


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    database_url = args.database or flywheel_database_url()
    # The corpus first: building it finds the packages it reads by import spec, and Django's
    # start imports the Celery app, after which find_spec("kombu") raises ValueError.
    from inference.editor_data.examples import load_resources

    resources = load_resources()
    draws = {
        name: draw_bullets(args.seed, args.probe, args.rounds, args.sentences, resources, WRITERS[name])
        for name in args.writers
    }

    configure_environment(args, database_url)
    from django.conf import settings

    model = settings.REDLINE_DEFAULT_MODEL
    check_trainable(model)
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    print(
        f"model {model}; writers {', '.join(args.writers)}; {args.rounds} rounds of {args.sentences} new lines, "
        f"probe {args.probe}; {args.method} ({args.finetune}), lr {args.learning_rate}, seed {args.seed}; "
        f"promotion: {args.promote}"
    )
    from bench.common import django_setup

    database_drop(database_url)
    django_setup(database_url)
    from inference.training.common import quiet_progress

    warnings.filterwarnings("ignore", category=FutureWarning)  # deprecations inside TRL and transformers
    results: list[RoundResult] = []
    print(table_header())
    for name in args.writers:
        probe_bullets, batches = draws[name]
        with fresh_database(database_url, keep=args.keep and name == args.writers[-1]):
            with quiet_progress():  # no loading bars between the table's rows
                results += run_rounds(args, WRITERS[name], batches, slides_of(probe_bullets, args.bullets_per_slide))
    seconds = time.perf_counter() - started
    config = {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()} | {
        "model": model,
        "writers": {name: asdict(WRITERS[name]) for name in args.writers},
    }
    write_json(args.json, config, results, seconds)
    method = f"{args.method} {args.loss_type}" if args.method == "dpo" else args.method
    write_plot(args.plot, results, f"{Path(model).name}, {method} ({args.finetune}), seed {args.seed}")
    print()
    for line in summary_lines(results):
        print(line)
    print(f"{seconds:.0f} s in all; wrote {args.json} and {args.plot}")
    return 0


def summary_lines(results: list[RoundResult]) -> list[str]:
    """Per writer: probe acceptance and edit cost left from the first round to the last, and
    how many candidates the gate promoted."""
    lines = []
    for name in dict.fromkeys(r.writer for r in results):
        mine = [r for r in results if r.writer == name and r.probe]
        if not mine:
            continue
        first, last = mine[0].probe, mine[-1].probe
        change = 1 - last.cost_after / first.cost_after if first.cost_after else 0.0
        direction = "lower" if change >= 0 else "higher"
        promoted = sum(r.promoted == "yes" for r in mine)
        lines.append(
            f"{name}: probe acceptance {_fmt(first.acceptance)} -> {_fmt(last.acceptance)}, edit cost left "
            f"{first.cost_after} -> {last.cost_after} ({100 * abs(change):.0f}% {direction}), "
            f"{promoted} of {len(mine) - 1} candidates promoted"
        )
        reranked = [r for r in mine if r.probe_best_of]
        if reranked:
            r = reranked[-1]
            lines.append(
                f"{name}: round {r.round}, the same version greedy against best-of-n under {r.reward}: acceptance "
                f"{_fmt(r.probe.acceptance)} / {_fmt(r.probe_best_of.acceptance)}, edit cost left "
                f"{r.probe.cost_after} / {r.probe_best_of.cost_after}"
            )
    return lines


@contextmanager
def fresh_database(database_url: str, keep: bool = False):
    """A new, migrated database and no trained versions for one writer; both gone afterwards
    unless `keep`."""
    from django.core.management import call_command
    from django.db import connections

    from bench.common import database_create
    from inference.editor import editor_cache_clear

    models = Path(os.environ["REDLINE_MODEL_DIR"])
    connections.close_all()
    database_drop(database_url)
    shutil.rmtree(models, ignore_errors=True)
    database_create(database_url)
    call_command("migrate", verbosity=0)
    editor_cache_clear()  # the next writer's versions reuse the same adapter paths
    try:
        yield
    finally:
        if not keep:
            connections.close_all()
            database_drop(database_url)
            shutil.rmtree(models, ignore_errors=True)


def run_rounds(
    args: argparse.Namespace, writer: Writer, batches: list[list[Bullet]], probe_slides: list[Slide]
) -> list[RoundResult]:
    """Every round: propose on new lines, decide, fix by hand, and (but the last) retrain,
    evaluate and let the promotion gate decide."""
    from webapp.accounts.roles import ADMIN, WRITER
    from webapp.accounts.services import user_create
    from webapp.registry.services import model_version_active, model_version_promote

    admin = user_create(username="flywheel-admin", password="flywheel-password-1", role=ADMIN)
    shared_writer = (
        user_create(username="flywheel-writer", password="flywheel-password-1", role=WRITER) if args.memory else None
    )
    overrides = {
        "learning_rate": args.learning_rate,
        "num_epochs": args.epochs,
        "max_steps": args.steps,
        "lora_r": args.lora_r,
        "lora_alpha": 2 * args.lora_r,
        "batch_size": args.batch_size,
        "seed": args.seed,
        "anchor_share": args.anchor_share,
    }
    if args.method == "dpo":
        overrides["beta"], overrides["loss_type"] = args.beta, args.loss_type
    reward_overrides = {"max_steps": args.reward_steps, "batch_size": args.batch_size, "seed": args.seed}
    probes: dict[tuple, Tally] = {}
    results = []
    reward = None  # the reward model of the last round's snapshot, with --best-of
    built_in = model_version_active()  # a LoRA reward model starts from the base model alone
    for k, batch in enumerate(batches, 1):
        user = shared_writer or user_create(
            username=f"flywheel-writer-{k}", password="flywheel-password-1", role=WRITER
        )
        active = model_version_active()
        # Before the round's decisions: the probe sees what this writer would get when the round starts.
        probe = probe_measure(active, probe_slides, writer, probes, shared_writer) if probe_slides else None
        probe_best_of = None
        if probe_slides and reward is not None:
            probe_best_of = probe_measure(active, probe_slides, writer, probes, shared_writer, reward, args.best_of)
        t0 = time.perf_counter()
        tally, dropped, version_id, version_name = propose_and_decide(
            slides_of(batch, args.bullets_per_slide), writer, user, k
        )
        result = RoundResult(
            writer.name,
            k,
            version_id,
            version_name,
            tally,
            dropped_by_memory=dropped,
            probe=probe,
            generate_s=round(time.perf_counter() - t0, 1),
            probe_best_of=probe_best_of,
            reward=short_name(reward) if reward is not None else "",
        )
        # The last round measures the last promoted version; nothing would use a newer one.
        if k < len(batches) and not args.no_retrain:
            run, candidate, evaluation, seconds = retrain(
                admin, args.method, overrides, args.held_out, gate=args.promote == "gate", finetune=args.finetune
            )
            result.train_s, result.run_id, result.evaluation = round(seconds, 1), run.pk, evaluation
            result.candidate_id, result.candidate, result.run_metrics = candidate.pk, short_name(candidate), run.metrics
            if probe_slides:
                result.candidate_probe = probe_measure(candidate, probe_slides, writer, probes, shared_writer)
            if args.promote == "always":
                model_version_promote(version=candidate, user=admin, reason=f"flywheel round {k} (always)")
                result.promoted, result.gate = "yes", "always"
            else:
                result.promoted = "yes" if run.gate.get("promote") else "no"
                result.gate = run.gate.get("why", "")
            if args.best_of > 1:
                _, reward, reward_evaluation, _ = retrain(
                    admin, "reward", reward_overrides, args.held_out, gate=False, base_version=built_in
                )
                result.reward_metrics = reward_evaluation
        results.append(result)
        print(table_row(result), flush=True)
        if result.gate:
            print(f"{'':>10} gate: {result.gate}", flush=True)
        if result.probe_best_of:
            b = result.probe_best_of
            print(
                f"{'':>10} best-of-{args.best_of} under {result.reward}: probe acceptance {_fmt(b.acceptance)}, "
                f"cost left {b.cost_after}/{b.cost_before}, unwanted {b.rejected}",
                flush=True,
            )
    return results


if __name__ == "__main__":
    sys.exit(main())
