"""Greedy decoding with drafts from the prompt (inference/copy_decoding.py): greedy's own output,
in fewer forward passes when the output copies the input."""

from pathlib import Path

import pytest
import torch

from inference.copy_decoding import draft_from_context, greedy_copy_decode, plain_greedy
from inference.editor import Editor, GenerationSettings, derived_max_new_tokens, load_editor
from inference.revision import model_input
from inference.tiny import build_tiny_model

BUILTIN = Path(__file__).resolve().parents[2] / "inference" / "weights" / "redline-editor"
PROMPT = "Fix grammatical errors in this sentence"
SENTENCES = [
    "Their is a problem with the invoice you sent on friday.",
    "I will recieve the the package tomorrow.",
    "Thanks for your help.",
    "If you has any questions, let me know before the meeting starts at noon.",
    "She go to school.",
]


def test_the_draft_is_what_followed_the_latest_earlier_occurrence_of_the_last_tokens():
    context = [1, 2, 3, 4, 5, 9, 2, 3]
    assert draft_from_context(context, 2) == [4, 5]  # "2 3" seen before, followed by 4 5
    assert draft_from_context([7, 8, 7, 9, 7], 3) == [9, 7]  # the latest "7" before the end
    assert draft_from_context([1, 2, 3], 4) == []  # 3 occurs nowhere before
    assert draft_from_context([1, 2, 1], 0) == []


def _greedy_reference(editor: Editor, prompts: list[str]) -> list[list[int]]:
    """transformers' own greedy decoding, cut after the first stop token."""
    enc = editor._encode(prompts)
    limits = [derived_max_new_tokens(n) for n in enc["attention_mask"].sum(dim=1).tolist()]
    with torch.inference_mode():
        out = editor.model.generate(
            **enc, max_new_tokens=max(limits), do_sample=False, pad_token_id=editor.tokenizer.pad_token_id
        )
    stops, result = editor._stop_ids(), []
    for ids, limit in zip(out[:, enc["input_ids"].shape[1] :].tolist(), limits):
        ids = ids[:limit]
        end = next((i + 1 for i, t in enumerate(ids) if t in stops), len(ids))
        result.append(ids[:end])
    return result


def _copy_decoded(editor: Editor, prompts: list[str], calls: list) -> list[list[int]]:
    enc = editor._encode(prompts)
    limits = [derived_max_new_tokens(n) for n in enc["attention_mask"].sum(dim=1).tolist()]

    def counted(**kwargs):
        calls.append(kwargs["input_ids"].shape)
        return editor.model(**kwargs)

    tokens, logprobs = greedy_copy_decode(
        counted, enc["input_ids"], enc["attention_mask"], limits, editor._stop_ids(), editor.tokenizer.pad_token_id
    )
    assert [len(t) for t in tokens] == [len(lp) for lp in logprobs]
    assert all(lp <= 0 for row in logprobs for lp in row)
    return tokens


@pytest.fixture(scope="module")
def builtin() -> Editor:
    return load_editor(str(BUILTIN))


def test_the_built_in_editor_decodes_as_greedy_does_in_a_few_passes(builtin):
    prompts = [model_input(PROMPT, s) for s in SENTENCES]
    calls: list = []
    assert _copy_decoded(builtin, prompts, calls) == _greedy_reference(builtin, prompts)
    longest = max(len(t) for t in _greedy_reference(builtin, prompts))
    assert len(calls) < longest / 2  # greedy needs a pass per token of the longest output


def test_a_model_that_rarely_copies_still_gets_greedy_output(tmp_path):
    # A random model writes anything: most drafts are turned down, in different places per row.
    editor = load_editor(str(build_tiny_model(tmp_path / "causal", kind="causal")))
    config = editor.model.generation_config
    assert not plain_greedy(config)  # the tiny model ends its outputs with processors: generate applies them
    config.no_repeat_ngram_size = config.exponential_decay_length_penalty = config.suppress_tokens = None
    assert plain_greedy(config)
    prompts = [model_input(PROMPT, s) for s in SENTENCES]
    assert _copy_decoded(editor, prompts, []) == _greedy_reference(editor, prompts)


def test_the_editor_uses_it_for_plain_greedy_only(builtin):
    assert builtin._copy_decoding(GenerationSettings())
    assert not builtin._copy_decoding(GenerationSettings(do_sample=True))
    assert not builtin._copy_decoding(GenerationSettings(num_beams=2))
    assert not builtin._copy_decoding(GenerationSettings(copy_decoding=False))
    config = builtin.model.generation_config
    assert plain_greedy(config)
    config.repetition_penalty = 1.3  # transformers' generate applies it; copy decoding would not
    try:
        assert not plain_greedy(config) and not builtin._copy_decoding(GenerationSettings())
    finally:
        config.repetition_penalty = 1.0
