"""Training Redline's built-in editor model from scratch, offline and on a CPU.

    python -m inference.editor_train --out var/models/redline-editor [--size small] [--steps N] [--seed 0]

Builds the sentence corpus (inference.editor_data), a byte-level BPE tokenizer (4,096 tokens, with
one token for each instruction prompt and for the "Revised:" cue), a
small Llama from a config, and trains it on an endless, seeded stream of examples laid out
exactly as the app prompts a causal model (inference.editor.format_causal_prompt):

    "<instruction>: <sentence>\nRevised: <target></s>"   (loss on " <target></s>" only)

A causal model, because TRL's SFT and DPO trainers (which retrain the active model from the
writers' decisions) train causal language models. Writes the model and tokenizer with
save_pretrained (safetensors) and a training_card.json that records the configuration, data
sizes, seed, steps and losses. The same seed, size and thread count give the same weights.
"""

import argparse
import json
import math
import random
import re
import time
from pathlib import Path
from typing import Any, Callable, Iterator

from inference.editor import GAIN_CONFIG_KEY, PLAIN_CAUSAL_TEMPLATE
from inference.editor_config import SIZES, EditorConfig, editor_config
from inference.editor_data.examples import (
    Example,
    Resources,
    TrainingStream,
    load_resources,
)
from inference.instructions import INSTRUCTIONS

PAD, EOS, UNK = "<pad>", "</s>", "<unk>"
CARD_NAME = "training_card.json"
# The gain (nats) an edit of the built-in editor needs to be proposed (inference.revision): at 1,
# most of its slips on clean sentences go and nearly all of its right fixes stay (README).
MIN_EDIT_GAIN = 1.0
GENERAL_LICENCES = {
    "team": "written for Redline by its team (this repository)",
    "wordnet": "WordNet 3.0 licence (Princeton University), Debian package wordnet-base",
}
REVISED_CUE = PLAIN_CAUSAL_TEMPLATE.split("}", 1)[1]  # "\nRevised:"


def build_tokenizer(texts: list[str], vocab_size: int):
    """A byte-level tokenizer: any text (misspellings included) encodes without <unk> and
    decodes back exactly. With vocab_size 259 it has no merges, so every character is a token.
    Each instruction prompt with its colon, and the cue before the revision, are one token."""
    from tokenizers import (
        AddedToken,
        Tokenizer,
        decoders,
        models,
        pre_tokenizers,
        trainers,
    )
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(unk_token=UNK))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[PAD, EOS, UNK],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        min_frequency=2,
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer)
    markers = [f"{i.prompt}:" for i in INSTRUCTIONS.values() if i.prompt] + [REVISED_CUE]
    tok.add_tokens([AddedToken(m, normalized=False) for m in markers])
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        pad_token=PAD,
        eos_token=EOS,
        unk_token=UNK,
        padding_side="left",  # generation continues from the right edge of every row
        model_max_length=1024,
        clean_up_tokenization_spaces=False,  # " ," must decode as written: it may be the error
    )


def build_model(config: EditorConfig, tokenizer: Any):
    from transformers import LlamaConfig, LlamaForCausalLM

    pad_id, eos_id = tokenizer.pad_token_id, tokenizer.eos_token_id
    model_config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=config.d_model,
        intermediate_size=config.d_ff,
        num_hidden_layers=config.num_layers,
        num_attention_heads=config.num_heads,
        num_key_value_heads=config.num_heads,
        max_position_embeddings=2048,  # rotary: no weights depend on it; sentences longer than training still run
        tie_word_embeddings=True,
        pad_token_id=pad_id,
        eos_token_id=eos_id,
        bos_token_id=None,
    )
    model = LlamaForCausalLM(model_config)
    gen = model.generation_config
    gen.pad_token_id, gen.eos_token_id, gen.bos_token_id = pad_id, eos_id, None
    gen.max_new_tokens = 256  # a bound for callers that give none
    return model


def prompt_text(tokenizer: Any, example: Example) -> str:
    """What the app gives a causal model for this example (inference.editor.format_causal_prompt)."""
    from inference.editor import format_causal_prompt

    return format_causal_prompt(tokenizer, example.model_input)


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


def encode_batch(
    tokenizer: Any,
    examples: list[Example],
    max_tokens: int,
    split_words: float = 0.0,
    rng: random.Random | None = None,
) -> dict[str, Any]:
    """Prompt and target in one right-padded row each; labels are the target tokens and </s>
    (the prompt and the padding are masked with -100). Prompt and target are each cut to
    max_tokens. With `split_words`, that share of the input sentence's words (of 4 letters or
    more) are cut in two at a random letter and each part encoded alone: the model sees a word
    in pieces it would not be tokenized into, and has to write it whole, which teaches it what
    its tokens spell (a misspelled word comes in such odd pieces too)."""
    import torch

    rows, labels = [], []
    for e in examples:
        prompt = _prompt_ids(tokenizer, e, split_words, rng)[:max_tokens]
        target = tokenizer(" " + e.target, add_special_tokens=False)["input_ids"][: max_tokens - 1] + [tokenizer.eos_token_id]
        rows.append(prompt + target)
        labels.append([-100] * len(prompt) + target)
    width = max(map(len, rows))
    pad = tokenizer.pad_token_id
    input_ids = torch.tensor([r + [pad] * (width - len(r)) for r in rows])
    attention_mask = torch.tensor([[1] * len(r) + [0] * (width - len(r)) for r in rows])
    label_ids = torch.tensor([lab + [-100] * (width - len(lab)) for lab in labels])
    return {"input_ids": input_ids, "attention_mask": attention_mask, "labels": label_ids}


_CHUNK = re.compile(r"\s*\S+")
_SPLITTABLE = re.compile(r"(\s*)([A-Za-z]{4,})")


def _prompt_ids(tokenizer: Any, example: Example, split_words: float, rng: random.Random | None) -> list[int]:
    """The prompt's token ids; with split_words, some of its sentence's words in two pieces."""
    text = prompt_text(tokenizer, example)
    if not split_words:
        return tokenizer(text, add_special_tokens=False)["input_ids"]
    if rng is None:
        raise ValueError("split_words needs a seeded rng")
    # The instruction and the cue are added tokens, so the text is encoded as three parts anyway:
    # before the sentence, the sentence with its leading space, and after it.
    at = text.rindex(example.source) - 1
    end = at + 1 + len(example.source)
    pieces = [text[:at]]
    for chunk in _CHUNK.findall(text[at:end]):
        word = _SPLITTABLE.match(chunk)  # "layer." can be cut inside "layer"
        if word and rng.random() < split_words:
            cut = rng.randrange(word.start(2) + 1, word.end(2))
            pieces.extend((chunk[:cut], chunk[cut:]))
        else:
            pieces.append(chunk)
    pieces.append(text[end:])
    encoded = tokenizer([p for p in pieces if p], add_special_tokens=False)["input_ids"]
    return [i for ids in encoded for i in ids]


def _lr_factor(step: int, steps: int, warmup_steps: int, min_lr_ratio: float) -> float:
    """Linear warm-up, then cosine decay to min_lr_ratio."""
    if step < warmup_steps:
        return (step + 1) / warmup_steps
    progress = (step - warmup_steps) / max(1, steps - warmup_steps)
    return min_lr_ratio + (1 - min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))


def train(
    config: EditorConfig,
    out: str | Path,
    on_log: Callable[[dict[str, Any]], None] | None = None,
    resources: Resources | None = None,
    start_from: str | Path | None = None,
    everyday_from: str | Path | None = None,
) -> dict[str, Any]:
    """Trains a model as `config` says and saves it into `out`; returns the training card.

    Two phases: phase 1 from scratch (config.steps), then the spelling drill (config.drill_steps)
    from phase 1's weights with a fresh optimizer and a stream of its own. `start_from` is a
    saved phase-1 model of the same configuration (its card must say so): phase 1 is skipped, and
    the result is the same as a run of both. With config.checkpoint_every, copies are saved on the
    way into `out`/checkpoints/step-N (drill-N in the drill), to evaluate a long run as it goes.

    Phase 3, everyday English (config.everyday_steps), follows from the drill's weights on a
    corpus of general sentences (inference.editor_data.general) beside the domain's.
    `everyday_from` is a saved model that has had both earlier phases (the shipped one): only
    phase 3 runs, from it."""
    import numpy as np
    import torch

    started = time.perf_counter()
    log = on_log or (lambda record: None)
    if config.threads:
        torch.set_num_threads(config.threads)
    random.seed(config.seed)
    np.random.seed(config.seed)
    torch.manual_seed(config.seed)
    out = Path(out)

    if resources is None:
        resources = load_resources(config.sources)
    phases: dict[str, Any] = {}
    if everyday_from is not None:
        model, tokenizer, phases = _load_drilled(Path(everyday_from))
        log({"event": "start", "from": str(everyday_from), "parameters": _parameters(model), "vocab": len(tokenizer)})
    elif start_from is None:
        stream = TrainingStream(resources, seed=config.seed, mix=config.mix, synthetic_share=config.synthetic_typo_share)
        tokenizer = build_tokenizer(tokenizer_texts(resources), config.vocab_size)
        model = build_model(config, tokenizer)
        log({"event": "start", "parameters": _parameters(model), "vocab": len(tokenizer), **resources.corpus.sizes(),
             "data_seconds": round(time.perf_counter() - started, 1)})
        phases["one"] = _train_phase(model, tokenizer, stream, config, out, log, "one", config.steps,
                                     config.learning_rate, config.warmup_steps)
    else:
        model, tokenizer, phases["one"] = _load_phase_one(config, Path(start_from))
        log({"event": "start", "from": str(start_from), "parameters": _parameters(model), "vocab": len(tokenizer)})
    if config.drill_steps and everyday_from is None:
        torch.manual_seed(config.seed + 1)
        drill_stream = TrainingStream(resources, seed=config.seed + 1, mix=config.drill_mix,
                                      synthetic_share=config.synthetic_typo_share,
                                      typos_per_sentence=config.drill_typos_per_sentence)
        phases["drill"] = _train_phase(model, tokenizer, drill_stream, config, out, log, "drill", config.drill_steps,
                                       config.drill_learning_rate, config.drill_warmup_steps)
    general: dict[str, int] = {}
    if config.everyday_steps and (config.drill_steps or everyday_from is not None):  # phase 3 follows the drill
        torch.manual_seed(config.seed + 2)
        everyday_resources, general = everyday_resources_for(resources, config)
        log({"event": "everyday", "general_sentences": general})
        everyday_stream = TrainingStream(everyday_resources, seed=config.seed + 2, mix=config.everyday_mix,
                                         synthetic_share=config.synthetic_typo_share,
                                         typos_per_sentence=config.drill_typos_per_sentence)
        phases["everyday"] = _train_phase(model, tokenizer, everyday_stream, config, out, log, "everyday",
                                          config.everyday_steps, config.everyday_learning_rate,
                                          config.everyday_warmup_steps)
    model.eval()
    setattr(model.generation_config, GAIN_CONFIG_KEY, MIN_EDIT_GAIN)  # the app reads it (Editor.default_min_edit_gain)
    model.generation_config._from_model_config = False  # else loading it drops the settings that are not transformers'

    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    last = phases[list(phases)[-1]]
    card = {
        "model": "LlamaForCausalLM",
        "parameters": _parameters(model),
        "config": config.as_dict(),
        "data": {
            "sentences": resources.corpus.sizes(),
            "corpus_fingerprint": resources.corpus.fingerprint(),
            "misspellings": resources.misspellings.sizes(),
            "phrase_pairs": {task: {"train": len(tr), "held_out": len(ho)} for task, (tr, ho) in resources.phrase_pairs.items()},
            "general_sentences": general,
            "general_licences": GENERAL_LICENCES,
            "examples_seen": sum(p["steps"] for p in phases.values()) * config.batch_size,
        },
        "seed": config.seed,
        "steps": config.steps,
        "drill_steps": config.drill_steps,
        "everyday_steps": config.everyday_steps,
        "phases": phases,
        "final_loss": last["final_loss"],
        "train_seconds": round(sum(p["train_seconds"] for p in phases.values()), 1),
        "total_seconds": round(time.perf_counter() - started, 1),
        "torch_threads": torch.get_num_threads(),
    }
    (out / CARD_NAME).write_text(json.dumps(card, indent=2) + "\n")
    log({"event": "saved", "path": str(out), "final_loss": card["final_loss"]})
    return card


def _parameters(model: Any) -> int:
    return sum(p.numel() for p in model.parameters())


def _train_phase(model: Any, tokenizer: Any, stream: TrainingStream, config: EditorConfig, out: Path,
                 log: Callable[[dict[str, Any]], None], phase: str, steps: int, learning_rate: float,
                 warmup_steps: int) -> dict[str, Any]:
    """`steps` steps of AdamW with linear warm-up and cosine decay; the phase's figures."""
    import torch

    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": config.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=learning_rate, betas=(0.9, 0.98), eps=1e-8,
    )
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: _lr_factor(step, steps, warmup_steps, config.min_lr_ratio)
    )

    model.train()
    started = time.perf_counter()
    smoothed = None
    losses: list[float] = []
    batch_stream = batches(stream, config.batch_size)
    split_words = config.drill_split_words if phase in ("drill", "everyday") else 0.0
    split_rng = random.Random(f"{config.seed}:{phase}:split-words")
    checkpoint_prefix = "step" if phase == "one" else phase
    for step in range(1, steps + 1):
        batch = encode_batch(tokenizer, next(batch_stream), config.max_tokens, split_words, split_rng)
        loss = model(**batch).loss
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), config.max_grad_norm)
        optimizer.step()
        scheduler.step()
        value = loss.item()
        losses.append(value)
        smoothed = value if smoothed is None else 0.98 * smoothed + 0.02 * value
        if config.checkpoint_every and step % config.checkpoint_every == 0 and step < steps:
            checkpoint = out / "checkpoints" / f"{checkpoint_prefix}-{step}"
            model.save_pretrained(checkpoint)
            tokenizer.save_pretrained(checkpoint)
            log({"event": "checkpoint", "phase": phase, "step": step, "path": str(checkpoint)})
        if step % config.log_every == 0 or step == steps:
            elapsed = time.perf_counter() - started
            log({"event": "step", "phase": phase, "step": step, "loss": round(smoothed, 4), "lr": scheduler.get_last_lr()[0],
                 "steps_per_s": round(step / elapsed, 3), "elapsed_s": round(elapsed, 1)})
    tail = losses[-min(len(losses), 100):]
    return {"steps": steps, "final_loss": round(sum(tail) / len(tail), 4), "train_seconds": round(time.perf_counter() - started, 1)}


def everyday_resources_for(resources: Resources, config: EditorConfig) -> tuple[Resources, dict[str, int]]:
    """The everyday phase's resources: the general sentences (each config.everyday_repeat times)
    and the domain's training sentences; the suite's sentences are kept out (general_sentences)."""
    from inference.editor_data.corpus import Corpus
    from inference.editor_data.everyday import load_suite
    from inference.editor_data.general import general_sentences

    suite = [s.source for s in load_suite()] + [s.target for s in load_suite()]
    counts = {}
    found: list[str] = []
    for source in config.everyday_sources:
        mine = [s for s in general_sentences([source], exclude=suite) if s not in found]
        counts[source] = len(mine)
        found += mine
    corpus = Corpus(sorted(found * config.everyday_repeat + resources.corpus.train), resources.corpus.held_out)
    return Resources(corpus, resources.misspellings, resources.phrase_pairs), counts


def _load_drilled(path: Path) -> tuple[Any, Any, dict[str, Any]]:
    """A saved model that has had phase 1 and the drill, and the phases its card records."""
    from transformers import LlamaForCausalLM, PreTrainedTokenizerFast

    card_path = path / CARD_NAME
    if not card_path.is_file():
        raise ValueError(f"{path} has no {CARD_NAME}: only a model this script trained can be a starting point")
    card = json.loads(card_path.read_text())
    if not card.get("drill_steps") or card.get("everyday_steps"):
        raise ValueError(f"{path} must have had the drill and not yet the everyday phase")
    model = LlamaForCausalLM.from_pretrained(path)
    tokenizer = PreTrainedTokenizerFast.from_pretrained(path)
    phases = {name: {**figures, "from": str(path)} for name, figures in card["phases"].items()}
    return model, tokenizer, phases


def _load_phase_one(config: EditorConfig, path: Path) -> tuple[Any, Any, dict[str, Any]]:
    """A saved phase-1 model, after checking that its card's configuration is this one's."""
    from transformers import LlamaForCausalLM, PreTrainedTokenizerFast

    card_path = path / CARD_NAME
    if not card_path.is_file():
        raise ValueError(f"{path} has no {CARD_NAME}: only a model this script trained can be a starting point")
    card = json.loads(card_path.read_text())
    if card.get("drill_steps"):
        raise ValueError(f"{path} has had the drill already; start from a phase-1 model")
    wanted = json.loads(json.dumps(config.phase_one()))
    theirs = {k: card["config"].get(k) for k in wanted}
    differ = sorted(k for k in wanted if theirs[k] != wanted[k])
    if differ:
        raise ValueError(f"{path} was trained with other settings ({', '.join(differ)}); its phase 1 is not this run's")
    model = LlamaForCausalLM.from_pretrained(path)
    tokenizer = PreTrainedTokenizerFast.from_pretrained(path)
    one = {"steps": card["steps"], "final_loss": card["final_loss"], "train_seconds": card["train_seconds"], "from": str(path)}
    return model, tokenizer, one


def _print_record(record: dict[str, Any]) -> None:
    if record["event"] == "step":
        print(f"{record['phase']:>5} step {record['step']:>6}  loss {record['loss']:.4f}  lr {record['lr']:.2e}  "
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
    parser.add_argument("--drill-steps", type=int, help="steps of phase 2, the spelling drill (default: the size's; 0: none)")
    parser.add_argument("--start-from", help="a saved phase-1 model of the same settings: skip phase 1 and drill it")
    parser.add_argument("--everyday-steps", type=int, help="steps of phase 3, everyday English (default: the size's; 0: none)")
    parser.add_argument("--everyday-from", help="a saved model that has had the drill (the shipped one): run only phase 3 from it")
    parser.add_argument("--checkpoint-every", type=int, help="also save the model every N steps, into OUT/checkpoints/")
    args = parser.parse_args(argv)
    config = editor_config(args.size, steps=args.steps, seed=args.seed, batch_size=args.batch_size, threads=args.threads,
                           checkpoint_every=args.checkpoint_every, drill_steps=args.drill_steps,
                           everyday_steps=args.everyday_steps)
    try:
        train(config, args.out, on_log=_print_record, start_from=args.start_from, everyday_from=args.everyday_from)
    except ValueError as error:
        parser.error(str(error))


if __name__ == "__main__":
    main()
