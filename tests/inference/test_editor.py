"""Loading tiny models and generating with them: batching, determinism, scores, errors, adapters."""

import math
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from inference import editor as editor_module
from inference.devices import select_device
from inference.diffing import EditAction, apply_edits
from inference.editor import (
    Editor,
    GenerationSettings,
    ModelLoadError,
    derived_max_new_tokens,
    format_causal_prompt,
    load_editor,
    load_editor_cached,
)
from inference.instructions import INTENTS
from inference.revision import edit_gains, model_input, revise_document
from inference.sentences import sentence_spans
from inference.tiny import build_tiny_model
from inference.tiny import main as tiny_main

PROMPTS = [
    "Fix grammatical errors in this sentence: Me and him was late to the meeting.",
    "Simplify this sentence: The committee has finished the final draft because it was late.",
    "Paraphrase this sentence: hi",
    "Write this more formally: she likes the budget.",
    "Fix grammatical errors in this sentence: Their going to the store tomorrow, isn't it?",
    "Make this text coherent: The quick brown fox jumps over the lazy dog. A fast dog, a slow cat, and one bird.",
    "Simplify this sentence: Café au lait, 你好 😀.",
]


@pytest.fixture(scope="module")
def tiny_model_paths(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Tiny random models built once for this module; no network, no Django, no database."""
    root = tmp_path_factory.mktemp("tiny-models")
    return {kind: build_tiny_model(root / kind, kind=kind) for kind in ("seq2seq", "causal")}


@pytest.fixture(scope="module")
def editors(tiny_model_paths: dict[str, Path]) -> dict[str, Editor]:
    return {kind: load_editor(str(path)) for kind, path in tiny_model_paths.items()}


@pytest.fixture(params=["seq2seq", "causal"])
def editor(request: pytest.FixtureRequest, editors: dict[str, Editor]) -> Editor:
    return editors[request.param]


def test_generation_gives_words_and_scores_between_0_and_1(editor: Editor) -> None:
    outputs = editor.generate(PROMPTS)
    assert len(outputs) == len(PROMPTS)
    for out in outputs:
        assert out.text.split(), "the tiny model should produce words"
        assert "\n" not in out.text
        assert 0.0 < out.score <= 1.0


@pytest.mark.parametrize("runs_to_the_limit", [False, True])
def test_batched_generation_equals_one_at_a_time(
    editor: Editor, runs_to_the_limit: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if runs_to_the_limit:  # without its length penalty the random model only stops at each prompt's own limit
        monkeypatch.setattr(editor.model.generation_config, "exponential_decay_length_penalty", None)
    prompts = PROMPTS[:4] if runs_to_the_limit else PROMPTS
    batched = editor.generate(prompts, GenerationSettings(batch_size=3))
    single = [editor.generate([p], GenerationSettings(batch_size=1))[0] for p in prompts]
    assert [b.text for b in batched] == [s.text for s in single]
    assert [b.score for b in batched] == pytest.approx([s.score for s in single], rel=1e-4)


SAMPLED = GenerationSettings(do_sample=True, temperature=0.8, seed=7)


@pytest.mark.parametrize("settings", [GenerationSettings(), SAMPLED])
def test_generation_is_deterministic_under_fixed_settings(editor: Editor, settings: GenerationSettings) -> None:
    assert editor.generate(PROMPTS, settings) == editor.generate(PROMPTS, settings)


def test_sampling_follows_the_seed(editor: Editor) -> None:
    other_seed = GenerationSettings(**{**SAMPLED.as_dict(), "seed": 8})
    assert [o.text for o in editor.generate(PROMPTS, SAMPLED)] != [o.text for o in editor.generate(PROMPTS, other_seed)]


def teacher_forced_score(editor: Editor, prompt: str, text: str) -> float:
    """exp(mean log-probability) of `text` and its end-of-sequence, scored by one forward pass."""
    tok = editor.tokenizer
    target = torch.tensor([tok(text, add_special_tokens=False).input_ids + [tok.eos_token_id]])
    with torch.no_grad():
        if editor.kind == "seq2seq":
            logits = editor.model(**tok([prompt], return_tensors="pt"), labels=target).logits[0]
        else:
            context = tok([format_causal_prompt(tok, prompt)], return_tensors="pt").input_ids
            logits = editor.model(torch.cat([context, target], dim=1)).logits[0, context.shape[1] - 1 : -1]
    logprobs = torch.log_softmax(logits, dim=-1).gather(1, target[0][:, None])
    return math.exp(logprobs.mean().item())


@pytest.mark.parametrize("settings", [GenerationSettings(), GenerationSettings(num_beams=3)])
def test_score_is_the_mean_token_probability_of_the_output(editor: Editor, settings: GenerationSettings) -> None:
    for prompt, out in zip(PROMPTS[:4], editor.generate(PROMPTS[:4], settings)):
        assert out.score == pytest.approx(teacher_forced_score(editor, prompt, out.text), rel=1e-4)


def test_invalid_settings_are_refused() -> None:
    for bad in ({"batch_size": 0}, {"num_beams": 0}, {"max_new_tokens": 0}, {"temperature": 0.0}):
        with pytest.raises(ValueError):
            GenerationSettings(**bad)


def test_max_new_tokens_bounds_the_output(editor: Editor) -> None:
    # The tiny tokenizer is word-level: one token is one word or punctuation mark.
    for out in editor.generate(PROMPTS, GenerationSettings(max_new_tokens=3)):
        assert 1 <= len(out.text.split()) <= 3


def test_derived_limit_grows_with_the_input_and_is_capped() -> None:
    assert derived_max_new_tokens(10) == 36
    assert derived_max_new_tokens(10_000) == 512


def test_progress_is_reported_after_every_batch(editors: dict[str, Editor]) -> None:
    calls: list[tuple[int, int]] = []
    settings = GenerationSettings(batch_size=3, max_new_tokens=2)
    editors["seq2seq"].generate(PROMPTS, settings, on_progress=lambda done, total: calls.append((done, total)))
    assert calls == [(3, 7), (6, 7), (7, 7)]


def test_settings_as_dict_round_trips() -> None:
    settings = GenerationSettings(batch_size=4, num_beams=2, max_new_tokens=30, do_sample=True, temperature=0.5, seed=3)
    assert GenerationSettings(**settings.as_dict()) == settings
    assert GenerationSettings().as_dict()["max_new_tokens"] is None


def test_editor_knows_what_it_loaded(editors: dict[str, Editor], tiny_model_paths: dict[str, Path]) -> None:
    for kind, editor in editors.items():
        assert editor.kind == kind
        assert editor.name == str(tiny_model_paths[kind])
        assert editor.adapter_path is None
        assert (editor.device, editor.dtype) == select_device()
        assert not editor.model.training
    assert editors["causal"].tokenizer.padding_side == "left"


def test_causal_prompt_uses_the_chat_template_when_there_is_one(tiny_model_paths: dict[str, Path]) -> None:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_paths["causal"])
    assert format_causal_prompt(tokenizer, "Fix this: me go") == "Fix this: me go\nRevised:"
    tokenizer.chat_template = (
        "{% for m in messages %}<{{ m['role'] }}>{{ m['content'] }}{% endfor %}"
        "{% if add_generation_prompt %}<assistant>{% endif %}"
    )
    assert format_causal_prompt(tokenizer, "Fix this: me go") == "<user>Fix this: me go<assistant>"


def test_causal_editor_generates_through_a_chat_template(tiny_model_paths: dict[str, Path]) -> None:
    editor = load_editor(str(tiny_model_paths["causal"]))
    editor.tokenizer.chat_template = "{% for m in messages %}{{ m['content'] }}{% endfor %} Revised :"
    outputs = editor.generate(PROMPTS[:2])
    assert all(out.text.split() for out in outputs)


def test_causal_output_is_its_first_non_empty_line(tiny_model_paths: dict[str, Path]) -> None:
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_paths["causal"])
    tokenizer.add_tokens(["\n"])
    model = SimpleNamespace(generation_config=SimpleNamespace(eos_token_id=tokenizer.eos_token_id))
    editor = Editor(model, tokenizer, "tiny", None, "causal", "cpu", torch.float32)
    ids = tokenizer.convert_tokens_to_ids(["\n", "the", "writer", "\n", "dog", "</s>"])
    out = editor._finish(ids, [math.log(p) for p in (0.5, 0.25, 0.5, 0.5, 0.01, 0.01)])
    assert out.text == "the writer"
    assert out.score == pytest.approx((0.5 * 0.25 * 0.5 * 0.5) ** 0.25), "tokens after the line do not count"


def test_select_device_prefers_cuda_in_bfloat16(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert select_device() == ("cuda", torch.bfloat16)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert select_device() == ("cpu", torch.float32)


def test_missing_model_directory_is_a_readable_load_error(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-model"
    with pytest.raises(ModelLoadError) as caught:
        load_editor(str(missing))
    assert str(missing) in str(caught.value)
    assert "no such local directory" in str(caught.value)


def test_directory_without_a_model_is_a_readable_load_error(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError) as caught:
        load_editor(str(tmp_path))
    assert str(tmp_path) in str(caught.value)


def test_missing_adapter_is_a_readable_load_error(tiny_model_paths: dict[str, Path], tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match="adapter"):
        load_editor(str(tiny_model_paths["seq2seq"]), adapter_path=str(tmp_path / "no-adapter"))


@pytest.fixture(scope="module")
def lora_adapter(tiny_model_paths: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh LoRA adapter: its B matrices start at zero, so it does not change the output yet."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForSeq2SeqLM

    base = AutoModelForSeq2SeqLM.from_pretrained(tiny_model_paths["seq2seq"])
    path = tmp_path_factory.mktemp("adapter")
    get_peft_model(base, LoraConfig(r=2, target_modules=["q", "v"])).save_pretrained(path)
    return path


def test_adapter_loads_on_top_of_the_base_model(
    editors: dict[str, Editor], tiny_model_paths: dict[str, Path], lora_adapter: Path
) -> None:
    from peft import PeftModel

    adapted = load_editor(str(tiny_model_paths["seq2seq"]), adapter_path=str(lora_adapter))
    assert isinstance(adapted.model, PeftModel)
    assert adapted.adapter_path == str(lora_adapter)
    assert [o.text for o in adapted.generate(PROMPTS)] == [o.text for o in editors["seq2seq"].generate(PROMPTS)]


def test_cache_reuses_editors_and_keeps_the_last_two(tiny_model_paths: dict[str, Path], lora_adapter: Path) -> None:
    editor_module._cache.clear()
    seq2seq, causal = str(tiny_model_paths["seq2seq"]), str(tiny_model_paths["causal"])
    first = load_editor_cached(seq2seq)
    assert load_editor_cached(seq2seq) is first
    second = load_editor_cached(causal)
    load_editor_cached(seq2seq, adapter_path=str(lora_adapter))
    assert load_editor_cached(causal) is second
    assert load_editor_cached(seq2seq) is not first
    editor_module._cache.clear()


def test_revise_document_edits_apply_to_give_the_model_output(editor: Editor) -> None:
    text = "Me and him was late to the meeting.  The committee has finished the draft!\n\nShe like it"
    calls: list[tuple[int, int]] = []
    revision = revise_document(
        editor,
        text,
        "Fix grammatical errors in this sentence",
        "fluency",
        GenerationSettings(batch_size=2, lexicon_guard=False),
        on_progress=lambda d, t: calls.append((d, t)),
    )
    assert revision.sentence_count == 3
    assert calls[-1] == (3, 3)
    assert revision.edits, "a random model changes something"
    assert apply_edits(text, revision.edits) == revision.model_output
    assert "  " in revision.model_output and "\n\n" in revision.model_output
    spans = sentence_spans(text)
    for e in revision.edits:
        assert any(start <= e.start <= e.end <= end for start, end in spans)
        assert e.intent in INTENTS and 0.0 < e.score <= 1.0
    assert revision.seconds > 0


def test_revise_empty_document_reports_done(editors: dict[str, Editor]) -> None:
    calls: list[tuple[int, int]] = []
    revision = revise_document(
        editors["seq2seq"], "  \n ", "Simplify", "clarity", on_progress=lambda done, total: calls.append((done, total))
    )
    assert (revision.model_output, revision.edits, revision.sentence_count) == ("  \n ", [], 0)
    assert calls == [(0, 0)]


def test_tiny_model_is_reproducible_from_its_seed(tmp_path: Path) -> None:
    first = build_tiny_model(tmp_path / "a", kind="causal", seed=3)
    tiny_main([str(tmp_path / "b"), "--kind", "causal", "--seed", "3"])
    assert (first / "model.safetensors").read_bytes() == (tmp_path / "b" / "model.safetensors").read_bytes()
    assert (first / "tokenizer.json").read_text() == (tmp_path / "b" / "tokenizer.json").read_text()


def test_tiny_model_rejects_an_unknown_kind(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="kind"):
        build_tiny_model(tmp_path, kind="vision")


def test_score_is_the_log_probability_of_an_output_in_a_batch_or_alone(editor: Editor) -> None:
    outputs = [o.text for o in editor.generate(PROMPTS)]
    together = editor.score(PROMPTS, outputs, batch_size=len(PROMPTS))  # rows of different lengths, padded
    alone = [editor.score([p], [o])[0] for p, o in zip(PROMPTS, outputs)]
    assert together == pytest.approx(alone, abs=1e-4)
    tok = editor.tokenizer
    for prompt, output, logprob in zip(PROMPTS, outputs, together):
        n = len(tok(output, add_special_tokens=False).input_ids) + 1  # and end-of-sequence
        assert logprob < 0
        assert math.exp(logprob / n) == pytest.approx(teacher_forced_score(editor, prompt, output), rel=1e-4)


def test_score_needs_one_output_per_prompt(editor: Editor) -> None:
    with pytest.raises(ValueError, match="2 prompts but 1 outputs"):
        editor.score(PROMPTS[:2], ["one"])


def test_a_minimum_edit_gain_keeps_only_edits_the_model_prefers(editor: Editor) -> None:
    text = "Me and him was late to the meeting. The committee has finished the draft!"
    prompt = "Fix grammatical errors in this sentence"  # the model's own edits: no word-list fixes
    every = revise_document(
        editor,
        text,
        prompt,
        "fluency",
        GenerationSettings(min_edit_gain=-math.inf, lexicon_guard=False, word_list_fixes=False),
    )
    assert every.edits, "a random model changes something"
    items = []
    for start, end in sentence_spans(text):
        mine = [
            EditAction(x.action, x.start - start, x.end - start, x.before, x.after)
            for x in every.edits
            if start <= x.start <= end
        ]
        items.append((model_input(prompt, text[start:end]), text[start:end], mine))
    gains = sorted(g for sentence in edit_gains(editor, items) for g in sentence)
    middle = gains[len(gains) // 2]
    some = revise_document(
        editor,
        text,
        prompt,
        "fluency",
        GenerationSettings(min_edit_gain=middle, lexicon_guard=False, word_list_fixes=False),
    )
    assert len(some.edits) == sum(g >= middle for g in gains)
    assert set(some.edits) <= set(every.edits)
    assert apply_edits(text, some.edits) == some.model_output
    none = revise_document(
        editor,
        text,
        prompt,
        "fluency",
        GenerationSettings(min_edit_gain=gains[-1] + 1, lexicon_guard=False, word_list_fixes=False),
    )
    assert none.edits == [] and none.model_output == text


def test_the_model_can_recommend_its_own_minimum_edit_gain(editors: dict[str, Editor]) -> None:
    editor = editors["causal"]
    assert editor.default_min_edit_gain is None
    assert editor.min_edit_gain(GenerationSettings()) is None
    editor.model.generation_config.redline_min_edit_gain = 2.5
    try:
        assert editor.min_edit_gain(GenerationSettings()) == 2.5
        assert editor.min_edit_gain(GenerationSettings(min_edit_gain=0.5)) == 0.5
        assert editor.min_edit_gain(GenerationSettings(min_edit_gain=-math.inf)) is None
    finally:
        del editor.model.generation_config.redline_min_edit_gain
    with pytest.raises(ValueError):
        GenerationSettings(min_edit_gain=math.nan)
