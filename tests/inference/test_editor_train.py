"""Training the built-in editor (tiny size), loading it like any model, revising, evaluating."""

import json
from pathlib import Path

import pytest

from inference.diffing import apply_edits
from inference.editor import GenerationSettings, load_editor
from inference.editor_config import editor_config
from inference.editor_data.examples import Example, load_resources
from inference.editor_eval import main as eval_main
from inference.editor_train import CARD_NAME, MIN_EDIT_GAIN, encode_batch, train
from inference.editor_train import main as train_main
from inference.instructions import INSTRUCTIONS
from inference.revision import revise_document

STEPS = 12


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny size trained for a few steps through the command line."""
    out = tmp_path_factory.mktemp("editor") / "redline-editor"
    train_main(["--out", str(out), "--size", "tiny", "--steps", str(STEPS), "--seed", "0"])
    return out


def test_training_saves_safetensors_tokenizer_and_a_card(trained: Path):
    assert (trained / "model.safetensors").is_file() and (trained / "tokenizer.json").is_file()
    card = json.loads((trained / CARD_NAME).read_text())
    assert (card["steps"], card["seed"], card["config"]["size"]) == (STEPS, 0, "tiny")
    assert card["data"]["sentences"]["train"] > 0 and card["data"]["misspellings"]["held_out"] > 0
    assert card["final_loss"] > 0 and card["parameters"] < 1_000_000
    assert load_editor(str(trained)).default_min_edit_gain == MIN_EDIT_GAIN  # it loads back with the model


def test_same_seed_gives_the_same_weights(tmp_path: Path):
    resources = load_resources(sources=("pydoc",))
    config = editor_config("tiny", steps=3)
    first = train(config, tmp_path / "a", resources=resources)
    second = train(config, tmp_path / "b", resources=resources)
    assert first["final_loss"] == second["final_loss"]
    assert (tmp_path / "a" / "model.safetensors").read_bytes() == (tmp_path / "b" / "model.safetensors").read_bytes()


def test_the_tokenizer_round_trips_misspellings_and_odd_spacing(trained: Path):
    editor = load_editor(str(trained))
    text = "Teh valeu , is  here..Ünïcode too"
    ids = editor.tokenizer(text).input_ids
    assert editor.tokenizer.unk_token_id not in ids
    assert editor.tokenizer.decode(ids, skip_special_tokens=True).strip() == text
    prompt = INSTRUCTIONS["fix_grammar"].prompt + ":"
    assert editor.tokenizer.convert_ids_to_tokens(editor.tokenizer(f"{prompt} Hi").input_ids)[0] == prompt


def test_the_built_in_model_loads_and_revises_through_the_app_path(trained: Path):
    editor = load_editor(str(trained))
    assert editor.kind == "causal"
    text = "The the cat sat on the mat. It are happy.\n\nA new paragraph"
    instruction = INSTRUCTIONS["fix_grammar"]
    revision = revise_document(
        editor, text, instruction.prompt, instruction.intent, GenerationSettings(max_new_tokens=24)
    )
    assert revision.sentence_count == 3
    assert apply_edits(text, revision.edits) == revision.model_output
    assert all(e.intent == "fluency" and 0.0 <= e.score <= 1.0 for e in revision.edits)


def test_the_eval_command_runs_on_it_and_writes_json(trained: Path, tmp_path: Path):
    out = tmp_path / "eval.json"
    assert eval_main(["--model", str(trained), "--n", "3", "--batch-size", "8", "--json", str(out)]) == 0
    results = json.loads(out.read_text())
    assert results["sources"] == ["pydoc"]
    sets = results["sets"]
    for name in (
        "misspelling",
        "doubled_word",
        "dropped_word",
        "agreement",
        "article",
        "capitalisation",
        "punctuation",
        "clean",
    ):
        assert sets[name]["n"] > 0, name
        assert 0.0 <= sets[name]["untouched"] <= 1.0
    assert set(results["summary"]) >= {"min_fix_rate", "clean_untouched", "sentences_per_s", "meets_targets"}


def test_training_rows_are_laid_out_as_the_app_prompts_a_causal_model(trained: Path):
    editor = load_editor(str(trained))
    example = Example("agreement", "fix_grammar", "It are here.", "It is here.")
    batch = encode_batch(editor.tokenizer, [example], 256)
    prompt_ids = editor._encode([example.model_input])["input_ids"][0].tolist()
    row, labels = batch["input_ids"][0].tolist(), batch["labels"][0].tolist()
    assert row[: len(prompt_ids)] == prompt_ids  # what generation feeds the model, token for token
    assert set(labels[: len(prompt_ids)]) == {-100}  # no loss on the prompt
    assert editor.tokenizer.decode(row[len(prompt_ids) :], skip_special_tokens=True) == " It is here."
    assert row[-1] == labels[-1] == editor.tokenizer.eos_token_id


def test_the_drill_from_a_saved_phase_one_gives_the_weights_of_a_run_of_both(tmp_path: Path):
    resources = load_resources(sources=("pydoc",))
    both = train(editor_config("tiny", steps=3), tmp_path / "both", resources=resources)
    train(editor_config("tiny", steps=3, drill_steps=0), tmp_path / "one", resources=resources)
    drilled = train(
        editor_config("tiny", steps=3), tmp_path / "drilled", resources=resources, start_from=tmp_path / "one"
    )
    assert (tmp_path / "drilled" / "model.safetensors").read_bytes() == (
        tmp_path / "both" / "model.safetensors"
    ).read_bytes()
    assert drilled["phases"]["one"]["from"] == str(tmp_path / "one")
    assert (
        set(both["phases"]) == {"one", "drill", "everyday"} and both["drill_steps"] == editor_config("tiny").drill_steps
    )
    assert drilled["final_loss"] == both["final_loss"] == both["phases"]["everyday"]["final_loss"]
    assert both["data"]["general_sentences"]["team"] > 1000


def test_the_everyday_phase_runs_alone_from_a_drilled_model(tmp_path: Path):
    resources = load_resources(sources=("pydoc",))
    train(editor_config("tiny", steps=3, everyday_steps=0), tmp_path / "drilled", resources=resources)
    card = train(
        editor_config("tiny", steps=3), tmp_path / "everyday", resources=resources, everyday_from=tmp_path / "drilled"
    )
    assert set(card["phases"]) == {"one", "drill", "everyday"}
    assert card["phases"]["drill"]["from"] == str(tmp_path / "drilled")
    assert card["phases"]["everyday"]["steps"] == editor_config("tiny").everyday_steps
    before = (tmp_path / "drilled" / "model.safetensors").read_bytes()
    assert (tmp_path / "everyday" / "model.safetensors").read_bytes() != before
    with pytest.raises(ValueError, match="not yet the everyday phase"):
        train(editor_config("tiny", steps=3), tmp_path / "x", resources=resources, everyday_from=tmp_path / "everyday")


def test_the_drill_starts_only_from_a_phase_one_of_the_same_settings(tmp_path: Path):
    resources = load_resources(sources=("pydoc",))
    train(editor_config("tiny", steps=3, drill_steps=0), tmp_path / "one", resources=resources)
    train(editor_config("tiny", steps=3, drill_steps=1), tmp_path / "drilled", resources=resources)
    with pytest.raises(ValueError, match="other settings .*seed"):
        train(editor_config("tiny", steps=3, seed=1), tmp_path / "x", resources=resources, start_from=tmp_path / "one")
    with pytest.raises(ValueError, match="drill already"):
        train(editor_config("tiny", steps=3), tmp_path / "x", resources=resources, start_from=tmp_path / "drilled")
    with pytest.raises(ValueError, match="no training_card.json"):
        train(editor_config("tiny", steps=3), tmp_path / "x", resources=resources, start_from=tmp_path)


def test_split_words_come_in_two_pieces_that_still_spell_the_prompt(trained: Path):
    import random

    tokenizer = load_editor(str(trained)).tokenizer
    example = Example(
        "misspelling",
        "fix_grammar",
        "Determine the quantization backned, as given.",
        "Determine the quantization backend, as given.",
    )
    plain = encode_batch(tokenizer, [example], 256)["input_ids"][0].tolist()
    split = encode_batch(tokenizer, [example], 256, split_words=1.0, rng=random.Random(0))["input_ids"][0].tolist()
    assert tokenizer.decode(split) == tokenizer.decode(plain)  # the same text, other pieces
    assert len(split) > len(plain)
    assert (
        encode_batch(tokenizer, [example], 256, split_words=1e-9, rng=random.Random(0))["input_ids"][0].tolist()
        == plain
    )
    with pytest.raises(ValueError, match="seeded rng"):
        encode_batch(tokenizer, [example], 256, split_words=0.5)


class Interrupted(Exception):
    """Stands for the end of a sitting: the process stops right after a checkpoint."""


def _interrupt_at(phase: str, step: int):
    def on_log(record: dict) -> None:
        if record["event"] == "checkpoint" and (record["phase"], record["step"]) == (phase, step):
            raise Interrupted

    return on_log


@pytest.mark.parametrize("phase, step", [("drill", 4), ("one", 6)])  # mid-phase; between phases
def test_a_resumed_run_gives_the_weights_of_an_uninterrupted_one(tmp_path: Path, phase: str, step: int):
    resources = load_resources(sources=("pydoc",))
    config = editor_config("tiny", steps=6, drill_steps=6, everyday_steps=3, checkpoint_every=4)
    whole = train(config, tmp_path / "whole", resources=resources)
    with pytest.raises(Interrupted):
        train(config, tmp_path / "cut", resources=resources, on_log=_interrupt_at(phase, step))
    assert not (tmp_path / "cut" / "model.safetensors").exists()
    records: list[dict] = []
    resumed = train(config, tmp_path / "cut", resources=resources, resume=True, on_log=records.append)
    assert records[0] == {
        "event": "resume",
        "phase": phase,
        "step": step,
        "from": str(tmp_path / "cut" / "checkpoints" / f"{'step' if phase == 'one' else phase}-{step}"),
    }
    assert (tmp_path / "cut" / "model.safetensors").read_bytes() == (
        tmp_path / "whole" / "model.safetensors"
    ).read_bytes()
    assert resumed["final_loss"] == whole["final_loss"]
    assert {name: p["steps"] for name, p in resumed["phases"].items()} == {"one": 6, "drill": 6, "everyday": 3}
    assert resumed["data"]["general_sentences"] == whole["data"]["general_sentences"]
    assert len(list((tmp_path / "cut" / "checkpoints").glob("*/trainer_state.pt"))) == 1  # only the newest keeps it


def test_resume_refuses_a_checkpoint_of_other_settings_and_starts_when_there_is_none(tmp_path: Path):
    resources = load_resources(sources=("pydoc",))
    config = editor_config("tiny", steps=4, drill_steps=0, everyday_steps=0, checkpoint_every=2)
    with pytest.raises(Interrupted):
        train(config, tmp_path / "cut", resources=resources, on_log=_interrupt_at("one", 2))
    with pytest.raises(ValueError, match=r"other settings \(learning_rate\)"):
        train(
            editor_config("tiny", steps=4, drill_steps=0, everyday_steps=0, learning_rate=0.01),
            tmp_path / "cut",
            resources=resources,
            resume=True,
        )
    fresh = train(config, tmp_path / "fresh", resources=resources, resume=True)  # nothing to resume: a plain run
    assert fresh["phases"]["one"]["steps"] == 4 and "from" not in fresh["phases"]["one"]
    # a resume may change where and how often: threads, logging, checkpoints
    again = editor_config("tiny", steps=4, drill_steps=0, everyday_steps=0, checkpoint_every=3, threads=1, log_every=1)
    assert train(again, tmp_path / "cut", resources=resources, resume=True)["phases"]["one"]["steps"] == 4


def test_bf16_autocast_runs_the_gpu_code_path_and_cuda_needs_a_gpu(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    import math

    import torch

    resources = load_resources(sources=("pydoc",))
    card = train(
        editor_config("tiny", steps=3, drill_steps=0, everyday_steps=0, precision="bf16"),
        tmp_path / "bf16",
        resources=resources,
    )
    plain = train(
        editor_config("tiny", steps=3, drill_steps=0, everyday_steps=0), tmp_path / "fp32", resources=resources
    )
    assert (card["device"], card["autocast"], plain["autocast"]) == ("cpu", "bfloat16", None)
    assert math.isfinite(card["final_loss"])
    assert (tmp_path / "bf16" / "model.safetensors").read_bytes() != (
        tmp_path / "fp32" / "model.safetensors"
    ).read_bytes()
    assert load_editor(str(tmp_path / "bf16")).model.dtype == torch.float32  # saved and shipped in float32
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ValueError, match="no GPU"):
        train(editor_config("tiny", steps=1, device="cuda"), tmp_path / "x", resources=resources)
    with pytest.raises(ValueError, match="precision must be one of"):
        editor_config("tiny", precision="fp8")


def test_the_tokenizer_learns_from_the_everyday_sentences_too(trained: Path):
    from inference.editor_data.everyday import load_suite
    from inference.editor_train import build_tokenizer, tokenizer_texts

    card = json.loads((trained / CARD_NAME).read_text())
    assert card["data"]["tokenizer_texts"]["general"] > 1000 and card["data"]["tokenizer_texts"]["domain"] > 0
    resources = load_resources(sources=("pydoc",))
    config = editor_config("tiny")
    mixed = load_editor(str(trained)).tokenizer
    domain_only = build_tokenizer(resources.corpus.train, config.vocab_size)
    assert tokenizer_texts(resources, editor_config("tiny", everyday_steps=0))[1]["general"] == 0
    everyday = [s.target for s in load_suite("held_out")]
    tokens = lambda tokenizer: sum(len(ids) for ids in tokenizer(everyday, add_special_tokens=False)["input_ids"])  # noqa: E731
    assert tokens(mixed) < 0.95 * tokens(domain_only)  # everyday words come in fewer pieces
