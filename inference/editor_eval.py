"""Evaluating an editor model on held-out data, through the same code the app uses.

    python -m inference.editor_eval --model var/models/redline-editor [--n 200] [--json PATH] [--check]
    python -m inference.editor_eval --model inference/weights/redline-editor --suite everyday [--part held_out]

The everyday suite (--suite everyday) is the one writers' text is like: sentences of e-mails,
essays, reports, stories and instructions with real mistakes and their corrections, and correct
ones (inference.editor_data.everyday; figures defined in inference.everyday_eval). --part tune
is what tuning may look at; held_out is what the README reports, and nothing is tuned on it.

The rest of this docstring is about the held-out suites of the training domain (--suite domain).

The evaluation sets (inference.editor_data.examples.eval_sets) are built from held-out
sentences only, and misspellings come from the held-out part of codespell's list; the phrase
sets use the training phrase pairs in held-out sentences, and the *_new_phrases sets use pairs
that were held out of training. Each set is joined into one document, one sentence per
paragraph, and revised with inference.revision.revise_document under its instruction's prompt;
the edits it proposes are split back to their sentences.

Definitions, per sentence:
  fixed      every edit of diff_words(input, clean) is among the proposed edits: the reviewer can
             accept exactly the right fix (other edits may be proposed beside it);
  exact      the proposed edits, all applied, give the clean sentence;
  untouched  no edit is proposed (for the clean sets, where the input is already the target).
Rates are shares of the set; sentences/s is the set's sentence count over revise_document's time.
--check exits 1 unless every error type has fixed >= 0.80 and clean (fix_grammar) untouched >= 0.95.
"""

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inference.diffing import EditAction, apply_edits, diff_words
from inference.editor import Editor, GenerationSettings
from inference.editor_data import noise
from inference.editor_data.corpus import SOURCES
from inference.editor_data.everyday import PARTS, load_suite
from inference.editor_data.examples import (
    CLEAN_TASKS,
    Example,
    Resources,
    eval_sets,
    load_resources,
)
from inference.everyday_eval import evaluate_everyday, format_everyday
from inference.instructions import INSTRUCTIONS
from inference.revision import revise_document
from inference.sentences import sentence_spans

FIX_TARGET, CLEAN_TARGET = 0.80, 0.95
_DOMAIN_JSON = "var/editor-eval.json"
SEPARATOR = "\n\n"  # a blank line always ends a sentence (inference.sentences)


@dataclass(frozen=True)
class Outcome:
    example: Example
    output: str
    proposed: list[EditAction]  # offsets relative to the example's source

    @property
    def fixed(self) -> bool:
        gold = {_key(e) for e in diff_words(self.example.source, self.example.target)}
        return bool(gold) and gold <= {_key(e) for e in self.proposed}

    @property
    def exact(self) -> bool:
        return self.output == self.example.target

    @property
    def untouched(self) -> bool:
        return not self.proposed


def _key(e: EditAction) -> tuple[int, int, str, str]:
    return (e.start, e.end, e.before, e.after)


def run_set(editor: Editor, examples: list[Example], settings: GenerationSettings) -> tuple[list[Outcome], float]:
    """Revises the examples as one document; the outcomes and the seconds it took."""
    if not examples:
        return [], 0.0
    instruction = INSTRUCTIONS[examples[0].instruction]
    text = SEPARATOR.join(e.source for e in examples)
    spans = sentence_spans(text)
    if len(spans) != len(examples):
        raise ValueError(f"{len(examples)} examples were split into {len(spans)} sentences")
    revision = revise_document(editor, text, instruction.prompt, instruction.intent, settings)
    outcomes = []
    for example, (start, end) in zip(examples, spans):
        mine = [e for e in revision.edits if start <= e.start and e.end <= end]
        local = [EditAction(e.action, e.start - start, e.end - start, e.before, e.after) for e in mine]
        outcomes.append(Outcome(example, apply_edits(example.source, local), local))
    return outcomes, revision.seconds


def summarise(name: str, outcomes: list[Outcome], seconds: float) -> dict[str, Any]:
    n = len(outcomes)
    clean = name in CLEAN_TASKS

    def share(flags: list[bool]) -> float | None:
        return round(sum(flags) / n, 4) if n else None

    row = {
        "instruction": outcomes[0].example.instruction if outcomes else None,
        "n": n,
        "fixed": None if clean else share([o.fixed for o in outcomes]),
        "exact": share([o.exact for o in outcomes]),
        "untouched": share([o.untouched for o in outcomes]),
        "sentences_per_s": round(n / seconds, 2) if seconds else None,
        "seconds": round(seconds, 2),
    }
    misses = [o for o in outcomes if (not o.untouched if clean else not o.fixed)]
    row["misses"] = [{"input": o.example.source, "expected": o.example.target, "output": o.output} for o in misses[:8]]
    return row


def evaluate(
    editor: Editor,
    sets: dict[str, list[Example]],
    settings: GenerationSettings = GenerationSettings(),
    on_set: Any = None,
) -> dict[str, Any]:
    """Per-set figures and a summary against the issue's targets."""
    results: dict[str, Any] = {}
    total_n, total_s = 0, 0.0
    for name, examples in sets.items():
        outcomes, seconds = run_set(editor, examples, settings)
        results[name] = summarise(name, outcomes, seconds)
        total_n, total_s = total_n + len(outcomes), total_s + seconds
        if on_set is not None:
            on_set(name, results[name])
    fix_rates = {t: results[t]["fixed"] for t in noise.ERROR_TYPES if results.get(t, {}).get("n")}
    clean = results.get("clean", {}).get("untouched")
    summary = {
        "min_fix_rate": min(fix_rates.values()) if fix_rates else None,
        "mean_fix_rate": round(sum(fix_rates.values()) / len(fix_rates), 4) if fix_rates else None,
        "clean_untouched": clean,
        "sentences_per_s": round(total_n / total_s, 2) if total_s else None,
        "meets_targets": bool(fix_rates) and min(fix_rates.values()) >= FIX_TARGET and (clean or 0) >= CLEAN_TARGET,
    }
    return {"sets": results, "summary": summary}


def _sources_for(model: str) -> tuple[str, ...]:
    """The corpus sources the model was trained with (its training card says), else all."""
    card = Path(model) / "training_card.json"
    if card.is_file():
        return tuple(json.loads(card.read_text())["config"]["sources"])
    return SOURCES


def format_table(results: dict[str, Any]) -> str:
    def pct(v: float | None) -> str:
        return "-" if v is None else f"{100 * v:5.1f}%"

    lines = [f"{'set':<22} {'instruction':<12} {'n':>4} {'fixed':>7} {'exact':>7} {'untouched':>9} {'sent/s':>7}"]
    for name, r in results["sets"].items():
        rate = "-" if r["sentences_per_s"] is None else f"{r['sentences_per_s']:7.1f}"
        lines.append(
            f"{name:<22} {r['instruction'] or '-':<12} {r['n']:>4} {pct(r['fixed']):>7} {pct(r['exact']):>7} "
            f"{pct(r['untouched']):>9} {rate:>7}"
        )
    s = results["summary"]
    lines.append(
        f"min fix rate {pct(s['min_fix_rate'])} (target {FIX_TARGET:.0%}), clean untouched {pct(s['clean_untouched'])} "
        f"(target {CLEAN_TARGET:.0%}), {s['sentences_per_s']} sentences/s: "
        f"{'meets' if s['meets_targets'] else 'misses'} the targets"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from inference.editor import load_editor

    parser = argparse.ArgumentParser(description="Evaluate an editor model on held-out sentences and misspellings.")
    parser.add_argument("--model", required=True, help="local model directory or Hugging Face id")
    parser.add_argument("--n", type=int, default=200, help="examples per set (at most)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch-size", type=int, default=GenerationSettings().batch_size)
    parser.add_argument(
        "--min-edit-gain",
        type=float,
        help="nats an edit must gain to be proposed (default: the model's own; --min-edit-gain=-inf: every edit)",
    )
    parser.add_argument(
        "--sources", nargs="+", choices=SOURCES, help="corpus sources (default: the model's training card's, else all)"
    )
    parser.add_argument("--sets", nargs="+", help="only these sets (default: all)")
    parser.add_argument("--json", default=_DOMAIN_JSON, help="where to write the results")
    parser.add_argument("--check", action="store_true", help="exit 1 unless the issue's targets are met")
    parser.add_argument(
        "--suite",
        choices=("domain", "everyday"),
        default="domain",
        help="domain: held-out sentences of the training sources; everyday: the everyday-prose suite",
    )
    parser.add_argument("--part", choices=PARTS, default="held_out", help="which part of the everyday suite")
    parser.add_argument("--no-lexicon-guard", action="store_true", help="propose edits the lexicon guard would stop")
    parser.add_argument(
        "--no-word-list-fixes",
        action="store_true",
        help="the model's edits only, without the word lists' fixes (inference.word_list_fixes)",
    )
    parser.add_argument(
        "--write-card",
        action="store_true",
        help="with --suite everyday --part held_out: write the figures into the model's redline_card.json",
    )
    args = parser.parse_args(argv)
    settings = GenerationSettings(
        batch_size=args.batch_size,
        min_edit_gain=args.min_edit_gain,
        lexicon_guard=not args.no_lexicon_guard,
        word_list_fixes=not args.no_word_list_fixes,
    )
    if args.suite == "everyday":
        return _main_everyday(args, settings)

    resources: Resources = load_resources(tuple(args.sources or _sources_for(args.model)))
    sets = eval_sets(resources, n=args.n, seed=args.seed)
    if args.sets:
        sets = {k: v for k, v in sets.items() if k in args.sets}
    editor = load_editor(args.model)
    results = evaluate(editor, sets, settings, on_set=lambda name, r: print(f"  {name}: done ({r['n']})", flush=True))
    results.update(
        {
            "model": args.model,
            "n": args.n,
            "seed": args.seed,
            "sources": list(args.sources or _sources_for(args.model)),
            "settings": settings.as_dict(),
            "min_edit_gain": editor.min_edit_gain(settings),
            "data": {"sentences": resources.corpus.sizes(), "misspellings": resources.misspellings.sizes()},
        }
    )
    path = Path(args.json)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2) + "\n")
    print(format_table(results))
    print(f"written to {path}")
    return 1 if args.check and not results["summary"]["meets_targets"] else 0


def _main_everyday(args: argparse.Namespace, settings: GenerationSettings) -> int:
    from inference.editor import load_editor

    sentences = load_suite(args.part)
    editor = load_editor(args.model)
    results = evaluate_everyday(editor, sentences, settings)
    results.update(
        {
            "model": args.model,
            "suite": "everyday",
            "part": args.part,
            "settings": settings.as_dict(),
            "min_edit_gain": editor.min_edit_gain(settings),
        }
    )
    path = Path(args.json if args.json != _DOMAIN_JSON else "var/editor-eval-everyday.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2) + "\n")
    print(format_everyday(results))
    print(f"written to {path}")
    if args.write_card:
        if args.part != "held_out":
            raise SystemExit("--write-card reports the held-out part only")
        print(f"card: {write_builtin_card(args.model, results)}")
    return 1 if args.check and not results["meets_targets"] else 0


def write_builtin_card(model: str, results: dict[str, Any]) -> Path:
    """The built-in editor's redline_card.json (inference.model_card), from its held-out figures."""
    from inference.model_card import write_model_card

    card = json.loads((Path(model) / "training_card.json").read_text())
    o = results["overall"]
    pct = lambda v: f"{100 * v:.0f}%"  # noqa: E731
    return write_model_card(
        model,
        "Redline's built-in editor",
        f"A small offline model ({card['parameters'] / 1e6:.1f}M parameters) trained on this kind of machine, mostly "
        "for spelling, doubled words, agreement, articles, confusions such as their/there, and capitals, with "
        "Debian's word lists for spelling and names. It leaves most text alone and misses many mistakes (commas, "
        "missing words); it cannot rewrite for style, tone or a free instruction.",
        [
            ("edits that are right", pct(o["precision"])),
            ("mistakes it fixes", pct(o["recall"])),
            ("correct sentences left alone", pct(o["untouched"])),
            ("sentences made worse", pct(o["harm"])),
        ],
        f"python -m inference.editor_eval --model {model} --suite everyday --part held_out "
        f"(everyday prose, {o['sentences']} held-out sentences)",
    )


if __name__ == "__main__":
    sys.exit(main())
