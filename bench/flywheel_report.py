"""Every flywheel figure the README gives, from one command: runs bench/flywheel.py in each
configuration below (one process each, one after the other), then writes docs/flywheel.md (the
tables), docs/flywheel.svg (the plot of the product as it is) and the README's flywheel section
between its markers, all from the runs' JSON files in var/flywheel-report/.

    .venv/bin/python bench/flywheel_report.py            # about 30 min on 2 CPU cores
    .venv/bin/python bench/flywheel_report.py --tables   # only rewrite the tables from the JSON files

The configurations:
- product: the product as it is, for one writer account over four rounds: the writer's
  preference model holds back edits they would turn down, SFT retraining on their final text
  after each round, the product's promotion gate deciding;
- sft: retraining alone (the probe proposed without any preference model), with a reward model
  trained on the same snapshots to measure best-of-n against greedy on the probe;
- dpo: the same with DPO (sigmoid + sft: the DPO loss with the SFT loss on the chosen side);
- preference / no-preference: no retraining, two rounds: the preference model alone against
  none.
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "var" / "flywheel-report"
BEGIN, END = "<!-- flywheel-report:begin -->", "<!-- flywheel-report:end -->"
BEST_OF = 4

CONFIGURATIONS = {
    "product": ["--memory"],
    "sft": ["--best-of", str(BEST_OF)],
    "dpo": ["--method", "dpo", "--loss-type", "sigmoid+sft"],
    "preference": ["--memory", "--no-retrain", "--rounds", "2"],
    "no-preference": ["--memory", "--no-retrain", "--rounds", "2", "--no-preference-model"],
}
# Done when (issue 13): at least this much less to fix than the built-in editor after three rounds,
# at least this acceptance, and the preference model alone at least this many points up.
COST_CUT, ACCEPTANCE, PREFERENCE_POINTS = 0.30, 0.85, 0.15


def run(name: str, extra: list[str]) -> None:
    command = [
        sys.executable,
        str(ROOT / "bench" / "flywheel.py"),
        *CONFIGURATIONS[name],
        *extra,
        "--json",
        str(OUT / f"{name}.json"),
        "--plot",
        str(OUT / f"{name}.svg"),
    ]
    print(f"== {name}: {' '.join(command[1:])}", flush=True)
    subprocess.run(command, check=True, stdin=subprocess.DEVNULL)


def load(name: str) -> dict:
    path = OUT / f"{name}.json"
    if not path.is_file():
        raise SystemExit(f"flywheel_report: {path} is missing; run without --tables first")
    return json.loads(path.read_text())


def _pct(value) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def per_writer(data: dict) -> dict[str, list[dict]]:
    rounds: dict[str, list[dict]] = {}
    for r in data["rounds"]:
        rounds.setdefault(r["writer"], []).append(r)
    return rounds


def cost_cut(first: dict, last: dict) -> float | None:
    return 1 - last["cost_after"] / first["cost_after"] if first["cost_after"] else None


def product_table(data: dict) -> list[str]:
    lines = [
        "| writer | round | proposed by | probe acceptance | edit cost left | unwanted | untouched | "
        "candidate | promoted, and why |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for writer, rounds in per_writer(data).items():
        for r in rounds:
            p = r["probe"]
            untouched = p["untouched"] / p["lines"] if p["lines"] else None
            why = f"{r['promoted']}: {r['gate']}" if r["candidate"] else "-"
            lines.append(
                f"| {writer} | {r['round']} | {r['version']} | {_pct(p['acceptance'])} | "
                f"{p['cost_after']} of {p['cost_before']} | {p['rejected']} | {_pct(untouched)} | "
                f"{r['candidate'] or '-'} | {why} |"
            )
    return lines


def verdict_table(product: dict) -> tuple[list[str], bool]:
    """Per writer, the round-1 and round-4 probe figures against the issue's bar."""
    lines = [
        "| writer | built-in: acceptance / cost left | after three rounds: acceptance / cost left | "
        "cost cut | bar met | collapsed version promoted |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    all_met = True
    for writer, rounds in per_writer(product).items():
        first, last = rounds[0]["probe"], rounds[-1]["probe"]
        cut = cost_cut(first, last)
        met = cut is not None and cut >= COST_CUT and (last["acceptance"] or 0) >= ACCEPTANCE
        collapsed = any(
            r["promoted"] == "yes" and r["candidate_probe"] and r["candidate_probe"]["proposals"] == 0 for r in rounds
        )
        all_met &= met and not collapsed
        lines.append(
            f"| {writer} | {_pct(first['acceptance'])} / {first['cost_after']} | {_pct(last['acceptance'])} / "
            f"{last['cost_after']} | {_pct(cut)} | {'yes' if met else 'no'} | {'yes' if collapsed else 'no'} |"
        )
    return lines, all_met


def method_table(sft: dict, dpo: dict) -> list[str]:
    lines = [
        "| writer | SFT: acceptance / cost left (round 1 -> last) | DPO: acceptance / cost left | "
        f"best-of-{BEST_OF} under the reward model, last round (greedy -> best-of-n) |",
        "| --- | --- | --- | --- |",
    ]
    dpo_rounds = per_writer(dpo)
    for writer, rounds in per_writer(sft).items():
        a, b = rounds[0]["probe"], rounds[-1]["probe"]
        d = dpo_rounds.get(writer)
        dpo_cell = "-"
        if d:
            da, db = d[0]["probe"], d[-1]["probe"]
            dpo_cell = (
                f"{_pct(da['acceptance'])} -> {_pct(db['acceptance'])} / {da['cost_after']} -> {db['cost_after']}"
            )
        reranked = [r for r in rounds if r.get("probe_best_of")]
        best_cell = "-"
        if reranked:
            r = reranked[-1]
            g, n = r["probe"], r["probe_best_of"]
            best_cell = (
                f"acceptance {_pct(g['acceptance'])} -> {_pct(n['acceptance'])}, cost left "
                f"{g['cost_after']} -> {n['cost_after']} (round {r['round']}, {r['reward']})"
            )
        lines.append(
            f"| {writer} | {_pct(a['acceptance'])} -> {_pct(b['acceptance'])} / {a['cost_after']} -> "
            f"{b['cost_after']} | {dpo_cell} | {best_cell} |"
        )
    return lines


def preference_table(with_model: dict, without: dict) -> tuple[list[str], bool]:
    lines = [
        "| writer | round-2 acceptance without | with the preference model | points | edit cost left without / with |",
        "| --- | --- | --- | --- | --- |",
    ]
    all_met = True
    off = per_writer(without)
    for writer, rounds in per_writer(with_model).items():
        on_t, off_t = rounds[-1]["tally"], off[writer][-1]["tally"]
        points = (on_t["acceptance"] or 0) - (off_t["acceptance"] or 0)
        all_met &= points >= PREFERENCE_POINTS
        lines.append(
            f"| {writer} | {_pct(off_t['acceptance'])} | {_pct(on_t['acceptance'])} | {100 * points:+.1f} | "
            f"{off_t['cost_after']} / {on_t['cost_after']} of {on_t['cost_before']} |"
        )
    return lines, all_met


def report() -> str:
    product, sft, dpo = load("product"), load("sft"), load("dpo")
    verdict, bar_met = verdict_table(product)
    preference, preference_met = preference_table(load("preference"), load("no-preference"))
    sft_cost = sum(rs[-1]["probe"]["cost_after"] for rs in per_writer(sft).values())
    dpo_cost = sum(rs[-1]["probe"]["cost_after"] for rs in per_writer(dpo).values())
    config = product["config"]
    parts = [
        f"Model `{Path(config['model']).name}`, seed {config['seed']}, {config['rounds']} rounds of "
        f"{config['sentences']} new lines per writer, a probe of {config['probe']} lines; "
        f"{round(sum(load(n)['seconds'] for n in CONFIGURATIONS) / 60)} min for every configuration "
        "(`.venv/bin/python bench/flywheel_report.py`).",
        "",
        "**The product as it is** (one writer account; the preference model; SFT on the final text; "
        "the product's gate). Probe figures of the version each round starts with, proposing through "
        "the writer's preference model as of that round:",
        "",
        *verdict,
        "",
        f"Every writer meets the bar (cost cut at least {COST_CUT:.0%}, acceptance at least {ACCEPTANCE:.0%}, "
        f"nothing collapsed promoted): **{'yes' if bar_met else 'no'}**.",
        "",
        "**Retraining alone** (the probe proposed without any preference model), SFT against DPO, and "
        "best-of-n under a reward model trained on the same snapshots:",
        "",
        *method_table(sft, dpo),
        "",
        f"Edit cost left on the probes after the last round, all writers: SFT {sft_cost}, DPO {dpo_cost} "
        f"(DPO at least as good: **{'yes' if dpo_cost <= sft_cost else 'no'}**).",
        "",
        "**The preference model alone** (no retraining; round 2 on new lines):",
        "",
        *preference,
        "",
        f"At least {100 * PREFERENCE_POINTS:.0f} points for every writer: **{'yes' if preference_met else 'no'}**.",
        "",
        "Every round of the product configuration, with the gate's reasons, is in "
        "[docs/flywheel.md](docs/flywheel.md).",
    ]
    return "\n".join(parts)


def write(summary: str) -> None:
    docs = ROOT / "docs"
    product = load("product")
    detail = [
        "# The flywheel, round by round",
        "",
        "Written by `bench/flywheel_report.py` from var/flywheel-report/*.json; do not edit by hand.",
        "",
        summary,
        "",
        "## The product configuration, every round",
        "",
        *product_table(product),
        "",
    ]
    (docs / "flywheel.md").write_text("\n".join(detail))
    svg = OUT / "product.svg"
    if svg.is_file():
        (docs / "flywheel.svg").write_text(svg.read_text())
    readme = ROOT / "README.md"
    text = readme.read_text()
    if BEGIN not in text or END not in text:
        raise SystemExit(f"flywheel_report: README.md has no {BEGIN} ... {END} section")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    readme.write_text(
        f"{head}{BEGIN}\n{summary}\n\n![Probe acceptance and edit cost left](docs/flywheel.svg)\n{END}{tail}"
    )
    print(f"wrote docs/flywheel.md, docs/flywheel.svg and README.md's flywheel section\n\n{summary}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tables", action="store_true", help="only rewrite the tables from the JSON files")
    parser.add_argument("--only", nargs="+", choices=list(CONFIGURATIONS), help="run only these configurations")
    args, extra = parser.parse_known_args(argv)  # the rest goes to every flywheel run (--writers, --seed, ...)
    if not args.tables:
        OUT.mkdir(parents=True, exist_ok=True)
        for name in args.only or CONFIGURATIONS:
            run(name, extra)
    write(report())
    return 0


if __name__ == "__main__":
    sys.exit(main())
