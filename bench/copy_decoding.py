"""Greedy decoding with drafts from the prompt (inference/copy_decoding.py) against transformers'
generate, token by token: sentences per second on the held-out everyday suite with the built-in
editor, both in this process, and whether the two give the same output.

    .venv/bin/python bench/copy_decoding.py [--model PATH] [--batch-size 32] [--repeats 3]
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from inference.editor import GenerationSettings, load_editor  # noqa: E402
from inference.editor_data.everyday import load_suite  # noqa: E402
from inference.instructions import INSTRUCTIONS  # noqa: E402
from inference.revision import model_input  # noqa: E402

BUILTIN = Path(__file__).resolve().parent.parent / "inference" / "weights" / "redline-editor"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(BUILTIN))
    parser.add_argument("--batch-size", type=int, default=GenerationSettings().batch_size)
    parser.add_argument("--repeats", type=int, default=3, help="timed passes of each, the best one counts")
    args = parser.parse_args()

    editor = load_editor(args.model)
    prompt = INSTRUCTIONS["fix_grammar"].prompt
    prompts = [model_input(prompt, s.source) for s in load_suite("held_out")]
    results = {}
    for name, copy in (("transformers generate", False), ("copy decoding", True)):
        settings = GenerationSettings(batch_size=args.batch_size, copy_decoding=copy)
        editor.generate(prompts[: args.batch_size], settings)  # warm-up
        best, outputs = float("inf"), None
        for _ in range(args.repeats):
            started = time.perf_counter()
            outputs = editor.generate(prompts, settings)
            best = min(best, time.perf_counter() - started)
        results[name] = (best, [g.text for g in outputs])
        print(f"{name:>22}: {len(prompts) / best:6.1f} sentences/s ({best:.2f} s for {len(prompts)})", flush=True)
    (base, base_out), (fast, fast_out) = results["transformers generate"], results["copy decoding"]
    same = sum(a == b for a, b in zip(base_out, fast_out))
    print(f"copy decoding is x{base / fast:.2f} the speed; the same output for {same} of {len(prompts)} sentences")


if __name__ == "__main__":
    main()
