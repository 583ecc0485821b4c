"""Training Redline's built-in editor model from scratch, offline and on a CPU.

    python -m inference.editor_train --out var/models/redline-editor [--size small] [--steps N] [--seed 0]

Builds the sentence corpus (inference.editor_data), a byte-level BPE tokenizer trained on the same
mix of domain and general sentences (4,096 tokens, with one token for each instruction prompt and
for the "Revised:" cue), a small Llama from a config, and trains it on an endless, seeded stream of examples laid out
exactly as the app prompts a causal model (inference.editor.format_causal_prompt):

    "<instruction>: <sentence>\nRevised: <target></s>"   (loss on " <target></s>" only)

A causal model, because TRL's SFT and DPO trainers (which retrain the active model from the
writers' decisions) train causal language models. Writes the model and tokenizer with
save_pretrained (safetensors) and a training_card.json that records the configuration, data
sizes, seed, steps and losses. The same seed, size and thread count give the same weights.
With --checkpoint-every N, a run interrupted (a sitting's end) continues with --resume; on a GPU
(--device auto finds it) the same recipe trains in bf16 autocast, a larger --size in minutes.
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
from inference.editor_config import DEVICES, PRECISIONS, SIZES, EditorConfig, editor_config
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


def tokenizer_texts(resources: Resources, config: EditorConfig) -> tuple[list[str], dict[str, int]]:
    """What the tokenizer learns its merges from: the same mix the model trains on, the domain's
    sentences and, when there is an everyday phase, the general ones (so that everyday words are
    not cut into the pieces of Python documentation's); with how many of each."""
    texts = list(resources.corpus.train)
    general: list[str] = []
    if config.everyday_steps:
        from inference.editor_data.general import general_sentences

        general = general_sentences(config.everyday_sources, exclude=_suite_sentences())
    return texts + general, {"domain": len(texts), "general": len(general)}


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
        target = tokenizer(" " + e.target, add_special_tokens=False)["input_ids"][: max_tokens - 1] + [
            tokenizer.eos_token_id
        ]
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


PHASES = ("one", "drill", "everyday")
TRAINER_STATE = "trainer_state.pt"
# Settings that say where and how often, not what is learnt: a run may resume with others.
RUN_ONLY_FIELDS = {"log_every", "checkpoint_every", "threads", "device", "precision"}


def train(
    config: EditorConfig,
    out: str | Path,
    on_log: Callable[[dict[str, Any]], None] | None = None,
    resources: Resources | None = None,
    start_from: str | Path | None = None,
    everyday_from: str | Path | None = None,
    resume: bool = False,
) -> dict[str, Any]:
    """Trains a model as `config` says and saves it into `out`; returns the training card.

    Phase 1 from scratch (config.steps); phase 2, the spelling drill (config.drill_steps), from
    phase 1's weights with a fresh optimizer and a stream of its own; phase 3, everyday English
    (config.everyday_steps), from the drill's weights on general sentences
    (inference.editor_data.general) beside the domain's. `start_from` is a saved phase-1 model of
    the same configuration (its card must say so): phase 1 is skipped, and the result is the same
    as a run of both. `everyday_from` is a saved model that has had both earlier phases (the
    shipped one): only phase 3 runs, from it.

    With config.checkpoint_every, copies are saved on the way into `out`/checkpoints/step-N
    (drill-N, everyday-N in the later phases) and at the end of each phase; the newest one also
    holds the optimizer's state. `resume` continues from it, mid-phase or between phases, with the
    weights an uninterrupted run would have reached (same device); with no checkpoint in `out`
    the run starts as it would without `resume`."""
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
    device, autocast_dtype = training_device(config)

    if resources is None:
        resources = load_resources(config.sources)
    phases: dict[str, Any] = {}  # the finished phases' figures
    resumed = _latest_checkpoint(out, config) if resume else None
    tokenizer_counts: dict[str, int] = {}
    if resumed is not None:
        model, tokenizer, state = resumed
        phases, tokenizer_counts = state["phases"], state["tokenizer_texts"]
        log({"event": "resume", "phase": state["phase"], "step": state["step"], "from": state["path"]})
    elif everyday_from is not None:
        model, tokenizer, phases = _load_drilled(Path(everyday_from))
        log({"event": "start", "from": str(everyday_from), "parameters": _parameters(model), "vocab": len(tokenizer)})
    elif start_from is not None:
        model, tokenizer, phases["one"] = _load_phase_one(config, Path(start_from))
        log({"event": "start", "from": str(start_from), "parameters": _parameters(model), "vocab": len(tokenizer)})
    else:
        texts, tokenizer_counts = tokenizer_texts(resources, config)
        tokenizer = build_tokenizer(texts, config.vocab_size)
        model = build_model(config, tokenizer)
        log(
            {
                "event": "start",
                "parameters": _parameters(model),
                "vocab": len(tokenizer),
                **resources.corpus.sizes(),
                "tokenizer_texts": tokenizer_counts,
                "device": device,
                "data_seconds": round(time.perf_counter() - started, 1),
            }
        )
    model.to(device)
    run = _PhaseRun(model, tokenizer, config, out, log, device, autocast_dtype, phases, tokenizer_counts)
    general: dict[str, int] = {}
    for offset, phase in enumerate(PHASES):
        if phase in phases or not _phase_follows(phase, config, phases):
            continue
        if offset:
            torch.manual_seed(config.seed + offset)
        phase_resources = resources
        if phase == "everyday":
            phase_resources, general = everyday_resources_for(resources, config)
            log({"event": "everyday", "general_sentences": general})
        stream = _phase_stream(phase, phase_resources, config, config.seed + offset)
        state = resumed[2] if resumed is not None and resumed[2]["phase"] == phase else None
        phases[phase] = run.phase(phase, stream, state)
    if "everyday" in phases and not general:  # it finished before a resume
        general = everyday_resources_for(resources, config)[1]
    model.eval()
    model.to("cpu")  # the weights are saved, and shipped, in float32 whatever trained them
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
            "phrase_pairs": {
                task: {"train": len(tr), "held_out": len(ho)} for task, (tr, ho) in resources.phrase_pairs.items()
            },
            "general_sentences": general,
            "general_licences": GENERAL_LICENCES,
            "tokenizer_texts": tokenizer_counts,
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
        "device": device,
        "autocast": str(autocast_dtype).removeprefix("torch.") if autocast_dtype else None,
        "torch_threads": torch.get_num_threads(),
    }
    (out / CARD_NAME).write_text(json.dumps(card, indent=2) + "\n")
    log({"event": "saved", "path": str(out), "final_loss": card["final_loss"]})
    return card


def training_device(config: EditorConfig) -> tuple[str, Any]:
    """The device to train on and the autocast dtype (None: plain float32). "auto" trains on the
    GPU in bfloat16 when there is one (float32 master weights, bf16 matmuls), else on the CPU in
    float32; bf16 can be asked for on a CPU too (slower there, but it runs the GPU's code path)."""
    import torch

    device = config.device
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise ValueError("device 'cuda' asked for, but torch sees no GPU on this machine")
    precision = config.precision
    if precision == "auto":
        precision = "bf16" if device == "cuda" else "fp32"
    return device, (torch.bfloat16 if precision == "bf16" else None)


def _phase_follows(phase: str, config: EditorConfig, done: dict[str, Any]) -> bool:
    """Whether `phase` runs after the phases in `done` (the drill follows phase 1, phase 3 the drill)."""
    if phase == "one":
        return True
    if phase == "drill":
        return config.drill_steps > 0 and "one" in done
    return config.everyday_steps > 0 and "drill" in done


def _phase_stream(phase: str, resources: Resources, config: EditorConfig, seed: int) -> TrainingStream:
    if phase == "one":
        return TrainingStream(resources, seed=seed, mix=config.mix, synthetic_share=config.synthetic_typo_share)
    return TrainingStream(
        resources,
        seed=seed,
        mix=config.drill_mix if phase == "drill" else config.everyday_mix,
        synthetic_share=config.synthetic_typo_share,
        typos_per_sentence=config.drill_typos_per_sentence,
    )


def _parameters(model: Any) -> int:
    return sum(p.numel() for p in model.parameters())


class _PhaseRun:
    """What the phases of one run share: the model, where it trains, and where it checkpoints."""

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        config: EditorConfig,
        out: Path,
        log: Callable[[dict[str, Any]], None],
        device: str,
        autocast_dtype: Any,
        done: dict[str, Any],
        tokenizer_counts: dict[str, int],
    ):
        self.model, self.tokenizer, self.config, self.out, self.log = model, tokenizer, config, out, log
        self.device, self.autocast_dtype = device, autocast_dtype
        self.done, self.tokenizer_counts = done, tokenizer_counts

    def phase(self, phase: str, stream: TrainingStream, state: dict[str, Any] | None) -> dict[str, Any]:
        """The phase's steps of AdamW with linear warm-up and cosine decay, from `state` (a
        checkpoint's) if given; the phase's figures."""
        import torch

        config, model = self.config, self.model
        steps, learning_rate, warmup_steps = _schedule(phase, config)
        decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
        no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
        optimizer = torch.optim.AdamW(
            [{"params": decay, "weight_decay": config.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
            lr=learning_rate,
            betas=(0.9, 0.98),
            eps=1e-8,
        )
        scheduler = torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda step: _lr_factor(step, steps, warmup_steps, config.min_lr_ratio)
        )
        batch_stream = batches(stream, config.batch_size)
        split_words = config.drill_split_words if phase in ("drill", "everyday") else 0.0
        split_rng = random.Random(f"{config.seed}:{phase}:split-words")
        first, losses, smoothed, seconds_before = 1, [], None, 0.0
        seconds = seconds_before
        if state is not None:
            optimizer.load_state_dict(state["optimizer"])
            scheduler.load_state_dict(state["scheduler"])
            torch.set_rng_state(state["torch_rng"])
            first, losses, smoothed, seconds_before = (
                state["step"] + 1,
                state["losses"],
                state["smoothed"],
                state["seconds"],
            )
            for _ in range(state["step"]):  # the stream is seeded: replayed, it stands where the run left it
                encode_batch(self.tokenizer, next(batch_stream), config.max_tokens, split_words, split_rng)

        model.train()
        started = time.perf_counter()
        for step in range(first, steps + 1):
            batch = encode_batch(self.tokenizer, next(batch_stream), config.max_tokens, split_words, split_rng)
            batch = {name: tensor.to(self.device) for name, tensor in batch.items()}
            with torch.autocast(self.device, dtype=self.autocast_dtype, enabled=self.autocast_dtype is not None):
                loss = model(**batch).loss
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), config.max_grad_norm)
            optimizer.step()
            scheduler.step()
            value = loss.item()
            losses.append(value)
            smoothed = value if smoothed is None else 0.98 * smoothed + 0.02 * value
            seconds = seconds_before + time.perf_counter() - started
            if config.checkpoint_every and (step % config.checkpoint_every == 0 or step == steps):
                self._checkpoint(
                    phase,
                    step,
                    {
                        "optimizer": optimizer.state_dict(),
                        "scheduler": scheduler.state_dict(),
                        "torch_rng": torch.get_rng_state(),
                        "losses": losses,
                        "smoothed": smoothed,
                        "seconds": seconds,
                    },
                )
            if step % config.log_every == 0 or step == steps:
                done_here = step - first + 1
                self.log(
                    {
                        "event": "step",
                        "phase": phase,
                        "step": step,
                        "loss": round(smoothed, 4),
                        "lr": scheduler.get_last_lr()[0],
                        "steps_per_s": round(done_here / (seconds - seconds_before), 3),
                        "elapsed_s": round(seconds, 1),
                    }
                )
        tail = losses[-min(len(losses), 100) :]
        return {
            "steps": steps,
            "final_loss": round(sum(tail) / len(tail), 4),
            "train_seconds": round(seconds_before + time.perf_counter() - started, 1),
        }

    def _checkpoint(self, phase: str, step: int, trainer: dict[str, Any]) -> None:
        """Saves the model into checkpoints/<phase>-<step>, with the trainer's state; older
        checkpoints keep their weights (to evaluate a run as it goes) but lose that state."""
        import torch

        prefix = "step" if phase == "one" else phase
        path = self.out / "checkpoints" / f"{prefix}-{step}"
        self.model.save_pretrained(path)
        self.tokenizer.save_pretrained(path)
        steps = _schedule(phase, self.config)[0]
        done = dict(self.done)
        if step == steps:  # the phase is over: a resume starts the next one
            tail = trainer["losses"][-min(len(trainer["losses"]), 100) :]
            done[phase] = {
                "steps": steps,
                "final_loss": round(sum(tail) / len(tail), 4),
                "train_seconds": round(trainer["seconds"], 1),
            }
        state = {
            **trainer,
            "phase": phase,
            "step": step,
            "phases": done,
            "config": _learning_fields(self.config),
            "tokenizer_texts": self.tokenizer_counts,
            "order": (PHASES.index(phase), step),
        }
        torch.save(state, path / TRAINER_STATE)
        for older in (self.out / "checkpoints").glob(f"*/{TRAINER_STATE}"):
            if older.parent != path:
                older.unlink()
        self.log({"event": "checkpoint", "phase": phase, "step": step, "path": str(path)})


def _schedule(phase: str, config: EditorConfig) -> tuple[int, float, int]:
    """(steps, peak learning rate, warm-up steps) of a phase."""
    if phase == "one":
        return config.steps, config.learning_rate, config.warmup_steps
    if phase == "drill":
        return config.drill_steps, config.drill_learning_rate, config.drill_warmup_steps
    return config.everyday_steps, config.everyday_learning_rate, config.everyday_warmup_steps


def _learning_fields(config: EditorConfig) -> dict[str, Any]:
    """The configuration as JSON would give it back, without the fields that only say where and how often."""
    return {k: v for k, v in json.loads(json.dumps(config.as_dict())).items() if k not in RUN_ONLY_FIELDS}


def _latest_checkpoint(out: Path, config: EditorConfig) -> tuple[Any, Any, dict[str, Any]] | None:
    """The model, tokenizer and trainer state of the newest checkpoint in `out`, or None if it has none.
    A checkpoint of other settings is an error, not a fresh start: the run would silently mix two."""
    import torch
    from transformers import LlamaForCausalLM, PreTrainedTokenizerFast

    found = sorted(out.glob(f"checkpoints/*/{TRAINER_STATE}"))
    if not found:
        return None
    states = [(torch.load(path, weights_only=True), path.parent) for path in found]
    state, path = max(states, key=lambda pair: tuple(pair[0]["order"]))
    wanted = _learning_fields(config)
    differ = sorted(k for k in set(wanted) | set(state["config"]) if wanted.get(k) != state["config"].get(k))
    if differ:
        raise ValueError(
            f"the checkpoint in {path} was trained with other settings ({', '.join(differ)}); "
            "resume with the same ones, or train into another directory"
        )
    model = LlamaForCausalLM.from_pretrained(path)
    tokenizer = PreTrainedTokenizerFast.from_pretrained(path)
    return model, tokenizer, {**state, "path": str(path)}


def everyday_resources_for(resources: Resources, config: EditorConfig) -> tuple[Resources, dict[str, int]]:
    """The everyday phase's resources: the general sentences (each config.everyday_repeat times)
    and the domain's training sentences; the suite's sentences are kept out (general_sentences)."""
    from inference.editor_data.corpus import Corpus
    from inference.editor_data.general import general_sentences

    suite = _suite_sentences()
    counts = {}
    found: list[str] = []
    for source in config.everyday_sources:
        mine = [s for s in general_sentences([source], exclude=suite) if s not in found]
        counts[source] = len(mine)
        found += mine
    corpus = Corpus(sorted(found * config.everyday_repeat + resources.corpus.train), resources.corpus.held_out)
    return Resources(corpus, resources.misspellings, resources.phrase_pairs), counts


def _suite_sentences() -> list[str]:
    """Every sentence of the everyday evaluation suite, as written and as corrected: kept out of training."""
    from inference.editor_data.everyday import load_suite

    suite = load_suite()
    return [s.source for s in suite] + [s.target for s in suite]


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
    one = {
        "steps": card["steps"],
        "final_loss": card["final_loss"],
        "train_seconds": card["train_seconds"],
        "from": str(path),
    }
    return model, tokenizer, one


def _print_record(record: dict[str, Any]) -> None:
    if record["event"] == "step":
        print(
            f"{record['phase']:>5} step {record['step']:>6}  loss {record['loss']:.4f}  lr {record['lr']:.2e}  "
            f"{record['steps_per_s']:.2f} steps/s  {record['elapsed_s']:.0f}s",
            flush=True,
        )
    else:
        print(" ".join(f"{k}={v}" for k, v in record.items()), flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Train Redline's built-in editor model (offline; CPU or GPU).")
    parser.add_argument("--out", required=True, help="directory to save the model, tokenizer and training card in")
    parser.add_argument("--size", choices=list(SIZES), default="small")
    parser.add_argument("--steps", type=int, help="training steps (default: the size's)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice)")
    parser.add_argument(
        "--drill-steps", type=int, help="steps of phase 2, the spelling drill (default: the size's; 0: none)"
    )
    parser.add_argument("--start-from", help="a saved phase-1 model of the same settings: skip phase 1 and drill it")
    parser.add_argument(
        "--everyday-steps", type=int, help="steps of phase 3, everyday English (default: the size's; 0: none)"
    )
    parser.add_argument(
        "--everyday-from", help="a saved model that has had the drill (the shipped one): run only phase 3 from it"
    )
    parser.add_argument("--checkpoint-every", type=int, help="also save the model every N steps, into OUT/checkpoints/")
    parser.add_argument(
        "--resume",
        action="store_true",
        help="continue from the newest checkpoint in OUT (with the same settings); none there: start",
    )
    parser.add_argument("--device", choices=DEVICES, help="where to train (default auto: the GPU when there is one)")
    parser.add_argument("--precision", choices=PRECISIONS, help="default auto: bf16 autocast on a GPU, fp32 on a CPU")
    args = parser.parse_args(argv)
    try:
        config = editor_config(
            args.size,
            steps=args.steps,
            seed=args.seed,
            batch_size=args.batch_size,
            threads=args.threads,
            checkpoint_every=args.checkpoint_every,
            drill_steps=args.drill_steps,
            everyday_steps=args.everyday_steps,
            device=args.device,
            precision=args.precision,
        )
        train(
            config,
            args.out,
            on_log=_print_record,
            start_from=args.start_from,
            everyday_from=args.everyday_from,
            resume=args.resume,
        )
    except ValueError as error:
        parser.error(str(error))


if __name__ == "__main__":
    main()
