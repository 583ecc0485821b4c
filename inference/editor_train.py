"""Training Redline's built-in editor model from scratch, offline and on a CPU.

    python -m inference.editor_train --out var/models/redline-editor [--size small] [--steps N] [--seed 0]

Builds the sentence corpus (inference.editor_data), trains a byte-level BPE tokenizer on the
training sentences and the instruction prompts, builds a small T5 from a config and trains it
on an endless, seeded stream of (instruction + corrupted sentence, clean sentence) examples.
Writes the model and tokenizer with save_pretrained (safetensors) and a training_card.json
that records the configuration, data sizes, seed, steps and losses. The same seed, size and
thread count give the same weights.
"""

import argparse
import json
import math
import random
import time
from pathlib import Path
from typing import Any, Callable, Iterator

from inference.editor_config import SIZES, EditorConfig, editor_config
from inference.editor_data.examples import Example, Resources, TrainingStream, load_resources
from inference.instructions import INSTRUCTIONS

PAD, EOS, UNK = "<pad>", "</s>", "<unk>"
CARD_NAME = "training_card.json"


def build_tokenizer(texts: list[str], vocab_size: int):
    """A byte-level BPE tokenizer: any text (misspellings included) encodes without <unk> and
    decodes back exactly; inputs end with </s> as T5 expects."""
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(unk_token=UNK))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[PAD, EOS, UNK],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        min_frequency=2,
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer)
    # Each instruction's prompt with its colon is one token: shorter inputs, and a clear task marker.
    tok.add_tokens([AddedToken(f"{i.prompt}:", normalized=False) for i in INSTRUCTIONS.values() if i.prompt])
    tok.post_processor = processors.TemplateProcessing(single=f"$A {EOS}", special_tokens=[(EOS, tok.token_to_id(EOS))])
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        pad_token=PAD,
        eos_token=EOS,
        unk_token=UNK,
        padding_side="right",
        model_max_length=512,
        clean_up_tokenization_spaces=False,  # " ," must decode as written: it may be the error
    )


def build_model(config: EditorConfig, tokenizer: Any):
    from transformers import T5Config, T5ForConditionalGeneration

    pad_id, eos_id = tokenizer.pad_token_id, tokenizer.eos_token_id
    model_config = T5Config(
        vocab_size=len(tokenizer),
        d_model=config.d_model,
        d_kv=config.d_kv,
        d_ff=config.d_ff,
        num_layers=config.num_layers,
        num_decoder_layers=config.num_decoder_layers,
        num_heads=config.num_heads,
        dropout_rate=config.dropout,
        feed_forward_proj="relu",
        tie_word_embeddings=True,
        pad_token_id=pad_id,
        eos_token_id=eos_id,
        decoder_start_token_id=pad_id,
    )
    model = T5ForConditionalGeneration(model_config)
    gen = model.generation_config
    gen.pad_token_id, gen.eos_token_id, gen.decoder_start_token_id = pad_id, eos_id, pad_id
    gen.max_new_tokens = 128  # a bound for callers that give none
    return model


def tokenizer_texts(resources: Resources) -> list[str]:
    return resources.corpus.train


def batches(stream: TrainingStream, batch_size: int, pool: int = 8) -> Iterator[list[Example]]:
    """Batches of examples of similar length (less padding): `pool` batches' worth are drawn,
    sorted by length, cut into batches, and those are given in a seeded random order."""
    rng = random.Random(stream.rng.random())
    while True:
        drawn = sorted(stream.take(batch_size * pool), key=lambda e: (len(e.source), len(e.target)))
        group = [drawn[i : i + batch_size] for i in range(0, len(drawn), batch_size)]
        rng.shuffle(group)
        yield from group


def encode_batch(tokenizer: Any, examples: list[Example], max_tokens: int) -> dict[str, Any]:
    """Input ids, attention mask and labels (padding masked with -100) for a batch."""
    enc = tokenizer([e.model_input for e in examples], padding=True, truncation=True, max_length=max_tokens, return_tensors="pt")
    labels = tokenizer([e.target for e in examples], padding=True, truncation=True, max_length=max_tokens, return_tensors="pt")
    ids = labels["input_ids"]
    ids[labels["attention_mask"] == 0] = -100
    return {"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"], "labels": ids}


def _lr_factor(step: int, config: EditorConfig) -> float:
    """Linear warm-up, then cosine decay to min_lr_ratio."""
    if step < config.warmup_steps:
        return (step + 1) / config.warmup_steps
    progress = (step - config.warmup_steps) / max(1, config.steps - config.warmup_steps)
    return config.min_lr_ratio + (1 - config.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))


def train(
    config: EditorConfig,
    out: str | Path,
    on_log: Callable[[dict[str, Any]], None] | None = None,
    resources: Resources | None = None,
) -> dict[str, Any]:
    """Trains a model as `config` says and saves it into `out`; returns the training card."""
    import numpy as np
    import torch

    started = time.perf_counter()
    log = on_log or (lambda record: None)
    if config.threads:
        torch.set_num_threads(config.threads)
    random.seed(config.seed)
    np.random.seed(config.seed)
    torch.manual_seed(config.seed)

    if resources is None:
        resources = load_resources(config.sources)
    stream = TrainingStream(resources, seed=config.seed, mix=config.mix, synthetic_share=config.synthetic_typo_share)
    tokenizer = build_tokenizer(tokenizer_texts(resources), config.vocab_size)
    model = build_model(config, tokenizer)
    n_params = sum(p.numel() for p in model.parameters())
    log({"event": "start", "parameters": n_params, "vocab": len(tokenizer), **resources.corpus.sizes(),
         "data_seconds": round(time.perf_counter() - started, 1)})

    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": config.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=config.learning_rate, betas=(0.9, 0.98), eps=1e-8,
    )
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: _lr_factor(step, config))

    model.train()
    train_started = time.perf_counter()
    smoothed = None
    losses: list[float] = []
    batch_stream = batches(stream, config.batch_size)
    for step in range(1, config.steps + 1):
        batch = encode_batch(tokenizer, next(batch_stream), config.max_tokens)
        loss = model(**batch).loss
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), config.max_grad_norm)
        optimizer.step()
        scheduler.step()
        value = loss.item()
        losses.append(value)
        smoothed = value if smoothed is None else 0.98 * smoothed + 0.02 * value
        if step % config.log_every == 0 or step == config.steps:
            elapsed = time.perf_counter() - train_started
            log({"event": "step", "step": step, "loss": round(smoothed, 4), "lr": scheduler.get_last_lr()[0],
                 "steps_per_s": round(step / elapsed, 3), "elapsed_s": round(elapsed, 1)})
    model.eval()

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    tail = losses[-min(len(losses), 100):]
    card = {
        "model": "T5ForConditionalGeneration",
        "parameters": n_params,
        "config": config.as_dict(),
        "data": {
            "sentences": resources.corpus.sizes(),
            "corpus_fingerprint": resources.corpus.fingerprint(),
            "misspellings": resources.misspellings.sizes(),
            "phrase_pairs": {task: {"train": len(tr), "held_out": len(ho)} for task, (tr, ho) in resources.phrase_pairs.items()},
            "examples_seen": config.steps * config.batch_size,
        },
        "seed": config.seed,
        "steps": config.steps,
        "final_loss": round(sum(tail) / len(tail), 4),
        "train_seconds": round(time.perf_counter() - train_started, 1),
        "total_seconds": round(time.perf_counter() - started, 1),
        "torch_threads": torch.get_num_threads(),
    }
    (out / CARD_NAME).write_text(json.dumps(card, indent=2) + "\n")
    log({"event": "saved", "path": str(out), "final_loss": card["final_loss"]})
    return card


def _print_record(record: dict[str, Any]) -> None:
    if record["event"] == "step":
        print(f"step {record['step']:>6}  loss {record['loss']:.4f}  lr {record['lr']:.2e}  "
              f"{record['steps_per_s']:.2f} steps/s  {record['elapsed_s']:.0f}s", flush=True)
    else:
        print(" ".join(f"{k}={v}" for k, v in record.items()), flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Train Redline's built-in editor model (CPU, offline).")
    parser.add_argument("--out", required=True, help="directory to save the model, tokenizer and training card in")
    parser.add_argument("--size", choices=list(SIZES), default="small")
    parser.add_argument("--steps", type=int, help="training steps (default: the size's)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice)")
    args = parser.parse_args(argv)
    config = editor_config(args.size, steps=args.steps, seed=args.seed, batch_size=args.batch_size, threads=args.threads)
    train(config, args.out, on_log=_print_record)


if __name__ == "__main__":
    main()
