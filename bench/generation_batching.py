"""Sentences per second revising a document in batches versus one sentence at a time.

Same model, same process, same greedy settings, so the two runs must also give the same
output. Without --model a tiny random seq2seq model is built in a temporary directory.

    .venv/bin/python bench/generation_batching.py [--model PATH] [--sentences 256] [--batch-size 16] [--threads 1]
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from inference.editor import Editor, GenerationSettings, load_editor
from inference.instructions import INSTRUCTIONS
from inference.revision import DocumentRevision, revise_document
from inference.tiny import build_tiny_model, corpus


def document(sentences: int) -> str:
    """Generated sentences, each ending in . ! or ? and nowhere else, so each is exactly one span."""
    lines = corpus(size=2 * sentences + 100, seed=1)
    lines = [s for s in lines if s[-1] in ".!?" and not any(c in s[:-1] for c in ".!?")]
    return " ".join(lines[:sentences])


def timed(editor: Editor, text: str, batch_size: int) -> tuple[DocumentRevision, float]:
    instruction = INSTRUCTIONS["fix_grammar"]
    started = time.perf_counter()
    settings = GenerationSettings(batch_size=batch_size)
    revision = revise_document(editor, text, instruction.prompt, instruction.intent, settings)
    return revision, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="model directory or Hugging Face id (default: a fresh tiny model)")
    parser.add_argument("--sentences", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=16)
    # One thread by default: a tiny model gains nothing from more, and on a busy machine they spin.
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (0: torch's default)")
    args = parser.parse_args()

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        path = args.model or str(build_tiny_model(Path(tmp) / "tiny-seq2seq"))
        editor = load_editor(path)
        text = document(args.sentences)
        timed(editor, text[:500], args.batch_size)  # warm-up: first calls pay one-off costs
        batched, batched_s = timed(editor, text, args.batch_size)
        single, single_s = timed(editor, text, 1)

    n = batched.sentence_count
    print(
        f"model: {path} ({editor.kind}, {editor.device}, {str(editor.dtype).removeprefix('torch.')}, "
        f"{torch.get_num_threads()} torch threads)"
    )
    print(f"sentences: {n}, edits proposed: {len(batched.edits)}")
    print(f"batched (batch {args.batch_size}): {n / batched_s:8.1f} sentences/s  ({batched_s:.2f} s)")
    print(f"one at a time:       {n / single_s:8.1f} sentences/s  ({single_s:.2f} s)")
    print(f"speed-up: {single_s / batched_s:.2f}x")
    print(f"same output both ways: {batched.model_output == single.model_output}")


if __name__ == "__main__":
    main()
