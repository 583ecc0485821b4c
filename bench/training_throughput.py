"""Training examples per second: SFT and DPO, each with LoRA and with full fine-tuning.

Same model, same rows, same process, same batch size and number of steps; the four runs go
through inference.training exactly as the retraining job calls it. Without --model a small random
Llama (hidden size 128, 4 layers, the tiny word-level tokenizer) is built in a temporary directory.

    .venv/bin/python bench/training_throughput.py [--model PATH] [--steps 20] [--batch-size 8] [--threads 1]
"""

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from inference.instructions import INSTRUCTIONS
from inference.revision import model_input
from inference.tiny import BOS, EOS, PAD, build_tokenizer, corpus
from inference.training import DPOSettings, ModelRef, PreferenceRow, SFTSettings
from inference.training.dpo import train_dpo
from inference.training.sft import train_sft


def build_small_llama(path: Path) -> Path:
    """A random Llama of about 0.9M parameters with the tiny word-level tokenizer."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    tokenizer = build_tokenizer(corpus(), "causal")
    pad_id, eos_id, bos_id = tokenizer.convert_tokens_to_ids([PAD, EOS, BOS])
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=128,
        intermediate_size=384,
        num_hidden_layers=4,
        num_attention_heads=4,
        num_key_value_heads=4,
        max_position_embeddings=512,
        pad_token_id=pad_id,
        eos_token_id=eos_id,
        bos_token_id=bos_id,
        tie_word_embeddings=True,
    )
    LlamaForCausalLM(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def rows(n: int) -> list[PreferenceRow]:
    """Prompts over generated sentences; chosen is the sentence, rejected the same words shuffled."""
    rng = random.Random(0)
    prompt = INSTRUCTIONS["fix_grammar"].prompt
    out = []
    for sentence in corpus(size=n + 100, seed=2)[100 : 100 + n]:
        words = sentence.split()
        rng.shuffle(words)
        out.append(PreferenceRow(model_input(prompt, sentence), sentence, " ".join(words)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="local causal model directory (default: a fresh small Llama)")
    parser.add_argument("--steps", type=int, default=20, help="optimizer steps per run")
    parser.add_argument("--batch-size", type=int, default=8)
    # One thread by default, as in the other benches: on a busy small machine extra threads only spin.
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (0: torch's default)")
    args = parser.parse_args()

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    data = rows(args.steps * args.batch_size)
    runs = [
        ("SFT", "full", train_sft, SFTSettings),
        ("SFT", "lora", train_sft, SFTSettings),
        ("DPO", "full", train_dpo, DPOSettings),
        ("DPO", "lora", train_dpo, DPOSettings),
    ]
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        model = ModelRef(args.model or str(build_small_llama(Path(tmp) / "small-llama")))
        train_sft(model, data[:16], Path(tmp) / "warm-up", SFTSettings(max_steps=2, batch_size=8))  # one-off costs
        for method, finetune, train, settings_class in runs:
            settings = settings_class(finetune=finetune, max_steps=args.steps, batch_size=args.batch_size)
            started = time.perf_counter()
            result = train(model, data, Path(tmp) / f"{method}-{finetune}", settings)
            wall = time.perf_counter() - started
            results.append((method, finetune, result, wall))

    first = results[0][2]
    print(
        f"model: {model.base_model} ({first.metrics['total_params']:,} parameters), {first.device}, "
        f"{first.precision}, {torch.get_num_threads()} torch threads"
    )
    print(f"{args.steps} steps of {args.batch_size} examples (DPO: pairs) per run, {len(data)} rows\n")
    baseline = first.metrics["examples_per_s"]
    print("| method | finetune | trainable params | examples/s | vs SFT full | train s | wall s (with loading) |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for method, finetune, result, wall in results:
        m = result.metrics
        print(
            f"| {method} | {finetune} | {m['trainable_params']:,} | {m['examples_per_s']:.1f} | "
            f"x{m['examples_per_s'] / baseline:.2f} | {m['train_runtime_s']:.2f} | {wall:.2f} |"
        )


if __name__ == "__main__":
    main()
