"""Loading an editing model (seq2seq or causal, optionally with a PEFT adapter) and generating with it.

Generation is batched, deterministic under fixed settings, and returns each output with a
confidence score, exp(mean log-probability of its tokens), that the review screen can show.
"""

import math
import threading
from collections import OrderedDict
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable

MAX_DERIVED_NEW_TOKENS = 512
PLAIN_CAUSAL_TEMPLATE = "{prompt}\nRevised:"
_CACHE_SIZE = 2
GAIN_CONFIG_KEY = "redline_min_edit_gain"


class ModelLoadError(RuntimeError):
    """The model could not be loaded; the message is written for the person who started the job."""


@dataclass(frozen=True)
class GenerationSettings:
    batch_size: int = 32  # measured on 2 CPUs: 16 -> 32 is 1.5x the sentences/s, 64 no better
    num_beams: int = 1
    max_new_tokens: int | None = None  # None: 2 * input tokens + 16, at most 512
    do_sample: bool = False
    temperature: float = 1.0
    seed: int = 0
    # Causal LMs: keep the first non-empty line (one revised sentence); False keeps the whole
    # output up to end-of-sequence (code, which spans lines).
    first_line_only: bool = True
    # An edit is proposed only if it raises the model's own log-probability of its sentence by at
    # least this many nats (inference.revision): a small model's slips in copying a sentence are
    # edits it barely prefers. None: the model's own recommendation (Editor.default_min_edit_gain),
    # else every edit; -inf: every edit.
    min_edit_gain: float | None = None
    # The lexicon guard (inference.edit_kinds): no edit writes a word that is not English, and a
    # grammar fix rewords a correct word only when the model is sure. False proposes them all.
    lexicon_guard: bool = True
    # Under a grammar fix, the word lists' fixes for words the model left: respellings of words
    # no list has, capitals of names (inference.word_list_fixes). False: the model's edits only.
    word_list_fixes: bool = True
    # Greedy decoding of a causal LM drafts from the prompt (inference.copy_decoding): the same
    # output in fewer forward passes. False: transformers' generate, token by token.
    copy_decoding: bool = True

    def __post_init__(self) -> None:
        if self.batch_size < 1 or self.num_beams < 1:
            raise ValueError("batch_size and num_beams must be at least 1")
        if self.max_new_tokens is not None and self.max_new_tokens < 1:
            raise ValueError("max_new_tokens must be at least 1, or None to derive it from the input")
        if self.temperature <= 0:
            raise ValueError("temperature must be above 0")
        if self.min_edit_gain is not None and (math.isnan(self.min_edit_gain) or self.min_edit_gain == math.inf):
            raise ValueError("min_edit_gain must be a number of nats (-inf for every edit), or None")

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-able values, to store beside the output they produced."""
        return asdict(self)


@dataclass(frozen=True)
class Generated:
    text: str
    score: float  # exp(mean log-probability of the generated tokens), 0..1


def derived_max_new_tokens(input_tokens: int) -> int:
    """An edit is about as long as its input; twice that plus slack bounds a runaway model."""
    return min(2 * input_tokens + 16, MAX_DERIVED_NEW_TOKENS)


def format_causal_prompt(tokenizer: Any, prompt: str) -> str:
    """The text a causal LM continues: its chat template with one user turn, or a plain cue."""
    if getattr(tokenizer, "chat_template", None):
        messages = [{"role": "user", "content": prompt}]
        return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    return PLAIN_CAUSAL_TEMPLATE.format(prompt=prompt)


@dataclass
class Editor:
    model: Any
    tokenizer: Any
    name: str
    adapter_path: str | None
    kind: str  # "seq2seq" or "causal"
    device: str
    dtype: Any

    def generate(
        self,
        prompts: list[str],
        settings: GenerationSettings = GenerationSettings(),
        on_progress: Callable[[int, int], None] | None = None,
    ) -> list[Generated]:
        """One output per prompt, in order; on_progress(done, total) after each batch."""
        import torch

        torch.manual_seed(settings.seed)
        # Prompts of about the same length go together: a batch takes as many steps as its longest
        # output, so a short sentence beside a long one would wait for it.
        order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]))
        results: list[Generated | None] = [None] * len(prompts)
        for start in range(0, len(prompts), settings.batch_size):
            batch = order[start : start + settings.batch_size]
            for i, generated in zip(batch, self._generate_batch([prompts[i] for i in batch], settings)):
                results[i] = generated
            if on_progress is not None:
                on_progress(min(start + settings.batch_size, len(prompts)), len(prompts))
        if not prompts and on_progress is not None:
            on_progress(0, 0)
        return results  # type: ignore[return-value]

    @property
    def default_min_edit_gain(self) -> float | None:
        """The edit gain the model recommends, from `redline_min_edit_gain` in its
        generation_config.json (the built-in editor has one); None: propose every edit."""
        value = getattr(self.model.generation_config, GAIN_CONFIG_KEY, None)
        return float(value) if value is not None else None

    def min_edit_gain(self, settings: GenerationSettings) -> float | None:
        """The gain an edit needs under `settings`: theirs, else the model's; None for every edit."""
        gain = settings.min_edit_gain if settings.min_edit_gain is not None else self.default_min_edit_gain
        return None if gain is None or gain == -math.inf else gain

    def score(self, prompts: list[str], outputs: list[str], batch_size: int = 16) -> list[float]:
        """The log-probability (nats) of each output as this model's answer to its prompt,
        end-of-sequence included: what the model thinks of a revision it may not have written."""
        import torch

        if len(prompts) != len(outputs):
            raise ValueError(f"{len(prompts)} prompts but {len(outputs)} outputs")
        scores: list[float] = []
        with torch.inference_mode():
            for start in range(0, len(prompts), batch_size):
                batch = slice(start, start + batch_size)
                scores.extend(self._score_batch(prompts[batch], outputs[batch]))
        return scores

    def _score_batch(self, prompts: list[str], outputs: list[str]) -> list[float]:
        import torch

        tok = self.tokenizer
        eos = [tok.eos_token_id] if tok.eos_token_id is not None else []
        if self.kind == "seq2seq":
            enc = tok(prompts, return_tensors="pt", padding=True).to(self.device)
            targets = [ids + eos for ids in tok(outputs, add_special_tokens=False)["input_ids"]]
            width = max(map(len, targets))
            labels = torch.tensor([t + [-100] * (width - len(t)) for t in targets], device=self.device)
            logits = self.model(**enc, labels=labels).logits
            return _label_logprobs(logits, labels)
        templated = bool(getattr(tok, "chat_template", None))
        texts = [format_causal_prompt(tok, p) for p in prompts]
        prompt_ids = tok(texts, add_special_tokens=not templated)["input_ids"]
        # The plain cue ends in "Revised:" and the model goes on with a space (inference.editor_train).
        output_ids = tok([o if templated else " " + o for o in outputs], add_special_tokens=False)["input_ids"]
        rows = [p + o + eos for p, o in zip(prompt_ids, output_ids)]
        width = max(map(len, rows))
        pad = tok.pad_token_id if tok.pad_token_id is not None else 0
        # Right-padded, so that every row's positions are the ones generation gave it.
        input_ids = torch.tensor([r + [pad] * (width - len(r)) for r in rows], device=self.device)
        mask = torch.tensor([[1] * len(r) + [0] * (width - len(r)) for r in rows], device=self.device)
        labels = torch.tensor(
            [[-100] * len(p) + o + eos + [-100] * (width - len(r)) for p, o, r in zip(prompt_ids, output_ids, rows)],
            device=self.device,
        )
        logits = self.model(input_ids=input_ids, attention_mask=mask).logits
        return _label_logprobs(logits[:, :-1], labels[:, 1:])

    def _encode(self, prompts: list[str]) -> Any:
        if self.kind == "seq2seq":
            return self.tokenizer(prompts, return_tensors="pt", padding=True)
        texts = [format_causal_prompt(self.tokenizer, p) for p in prompts]
        # A chat template already writes the special tokens (<s>, role markers) itself.
        templated = bool(getattr(self.tokenizer, "chat_template", None))
        return self.tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=not templated)

    def _generate_batch(self, prompts: list[str], settings: GenerationSettings) -> list[Generated]:
        import torch

        enc = self._encode(prompts).to(self.device)
        # Each prompt gets its own limit so that a batch gives what one-at-a-time would.
        lengths = enc["attention_mask"].sum(dim=1).tolist()
        limits = [settings.max_new_tokens or derived_max_new_tokens(n) for n in lengths]
        if self._copy_decoding(settings):
            from inference.copy_decoding import greedy_copy_decode

            tokens, logprobs = greedy_copy_decode(
                self.model,
                enc["input_ids"],
                enc["attention_mask"],
                limits,
                self._stop_ids(),
                self.tokenizer.pad_token_id,
            )
            first_line = settings.first_line_only
            return [self._finish(ids, lp, first_line) for ids, lp in zip(tokens, logprobs)]
        sampling = {"temperature": settings.temperature} if settings.do_sample else {}
        with torch.inference_mode():
            out = self.model.generate(
                **enc,
                max_new_tokens=max(limits),
                num_beams=settings.num_beams,
                do_sample=settings.do_sample,
                pad_token_id=self.tokenizer.pad_token_id,
                return_dict_in_generate=True,
                output_logits=True,
                **sampling,
            )
            logprobs = self.model.compute_transition_scores(
                out.sequences, out.logits, getattr(out, "beam_indices", None), normalize_logits=True
            )
        new_tokens = out.sequences[:, -logprobs.shape[1] :].tolist()
        logprobs = logprobs.float().tolist()
        first_line = settings.first_line_only
        return [self._finish(ids[:limit], lp, first_line) for ids, lp, limit in zip(new_tokens, logprobs, limits)]

    def _copy_decoding(self, settings: GenerationSettings) -> bool:
        """Greedy decoding of a causal LM goes through inference.copy_decoding: the same output,
        a few forward passes per copied sentence instead of one per token."""
        from inference.copy_decoding import plain_greedy

        return (
            settings.copy_decoding
            and self.kind == "causal"
            and settings.num_beams == 1
            and not settings.do_sample
            and plain_greedy(self.model.generation_config)
        )

    def _finish(self, ids: list[int], logprobs: list[float], first_line_only: bool = True) -> Generated:
        """Decoded text and score of one output: up to its end-of-sequence, first line for causal LMs
        unless first_line_only is False."""
        stops = self._stop_ids()
        keep = next((i + 1 for i, token_id in enumerate(ids) if token_id in stops), len(ids))
        first_line = self.kind == "causal" and first_line_only
        if first_line:
            keep = min(keep, self._first_line_tokens(ids[:keep]))
        text = self.tokenizer.decode(ids[:keep], skip_special_tokens=True)
        if self.kind == "causal":
            text = text.strip()
        if first_line:
            text = text.split("\n", 1)[0]
        scores = logprobs[:keep]
        score = math.exp(sum(scores) / len(scores)) if scores else 0.0
        return Generated(text=text, score=min(max(score, 0.0), 1.0))

    def _stop_ids(self) -> set[int]:
        """Every end-of-sequence id; chat models often stop on an end-of-turn token as well."""
        configured = self.model.generation_config.eos_token_id
        ids = {configured} if isinstance(configured, int) else set(configured or [])
        if self.tokenizer.eos_token_id is not None:
            ids.add(self.tokenizer.eos_token_id)
        return ids

    def _first_line_tokens(self, ids: list[int]) -> int:
        """How many tokens make up the first non-empty line (a causal LM rambles on after it)."""
        seen_text = False
        for i, token_id in enumerate(ids):
            piece = self.tokenizer.decode([token_id], skip_special_tokens=True)
            if "\n" in piece and (seen_text or piece.split("\n", 1)[0].strip()):
                return i + 1
            seen_text = seen_text or bool(piece.strip())
        return len(ids)


def _label_logprobs(logits: Any, labels: Any) -> list[float]:
    """Per row, the summed log-probability of the labels that are not -100."""
    import torch

    logprobs = torch.log_softmax(logits.float(), dim=-1)
    keep = labels != -100
    picked = logprobs.gather(-1, labels.clamp(min=0).unsqueeze(-1)).squeeze(-1)
    return (picked * keep).sum(dim=-1).tolist()


def _load_failure_reason(name_or_path: str, exc: BaseException) -> str:
    if Path(name_or_path).expanduser().exists():
        return f"the local directory exists but could not be loaded ({_first_line(exc)})"
    text = f"{exc} {exc.__cause__ or ''}".lower()
    if "connect" in text or "offline" in text or "local cache" in text:
        return "no such local directory and the Hugging Face hub cannot be reached (offline)"
    return _first_line(exc)


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def _looks_like_path(name_or_path: str) -> bool:
    return name_or_path.startswith(("/", ".", "~")) or name_or_path.count("/") > 1


def load_editor(name_or_path: str, adapter_path: str | None = None) -> Editor:
    """The model and tokenizer at a local path or Hugging Face id, in eval mode on the chosen device."""
    hint = "Set REDLINE_MODEL to a local model directory, or to a Hugging Face id already in this machine's cache."
    if _looks_like_path(name_or_path) and not Path(name_or_path).expanduser().exists():
        raise ModelLoadError(f"Could not load model {name_or_path!r}: no such local directory. {hint}")
    if adapter_path is not None and not Path(adapter_path).expanduser().is_dir():
        raise ModelLoadError(f"Could not load adapter {adapter_path!r}: no such local directory.")
    try:
        return _load(name_or_path, adapter_path)
    except Exception as exc:
        if adapter_path is not None and Path(name_or_path).expanduser().exists():
            reason = _first_line(exc)
            raise ModelLoadError(f"Could not load adapter {adapter_path!r} onto {name_or_path!r}: {reason}") from exc
        reason = _load_failure_reason(name_or_path, exc)
        raise ModelLoadError(f"Could not load model {name_or_path!r}: {reason}. {hint}") from exc


def _load(name_or_path: str, adapter_path: str | None) -> Editor:
    from transformers import (
        AutoConfig,
        AutoModelForCausalLM,
        AutoModelForSeq2SeqLM,
        AutoTokenizer,
    )

    from inference.devices import select_device

    device, dtype = select_device()
    config = AutoConfig.from_pretrained(name_or_path)
    kind = "seq2seq" if config.is_encoder_decoder else "causal"
    model_class = AutoModelForSeq2SeqLM if kind == "seq2seq" else AutoModelForCausalLM
    model = model_class.from_pretrained(name_or_path, config=config, dtype=dtype)
    tokenizer = AutoTokenizer.from_pretrained(name_or_path)
    if kind == "causal":
        tokenizer.padding_side = "left"  # generation continues from the right edge of every row
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
    if adapter_path is not None:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, adapter_path)
    model.to(device)
    model.eval()
    return Editor(model, tokenizer, name_or_path, adapter_path, kind, device, dtype)


_cache: OrderedDict[tuple[str, str | None], Editor] = OrderedDict()
_cache_lock = threading.Lock()


def editor_cache_clear() -> None:
    """Forget the remembered editors (a benchmark that reuses adapter paths for new weights)."""
    with _cache_lock:
        _cache.clear()


def load_editor_cached(name_or_path: str, adapter_path: str | None = None) -> Editor:
    """load_editor, remembering the last two editors so a worker does not reload for every job."""
    key = (name_or_path, adapter_path)
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
        while len(_cache) >= _CACHE_SIZE:  # free the oldest before loading, not after
            _cache.popitem(last=False)
        editor = load_editor(name_or_path, adapter_path)
        _cache[key] = editor
        return editor
