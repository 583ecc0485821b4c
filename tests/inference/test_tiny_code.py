import ast
from pathlib import Path

import pytest
from safetensors.torch import load_file

from inference.coding import (
    ProblemSpec,
    candidate_prompt,
    generate_candidates,
    normalized,
)
from inference.editor import Editor, load_editor
from inference.tiny_code import PROBLEMS, build_tiny_code_model, examples, problem

_built: dict[str, object] = {}  # the editor, loaded once per session for every module that imports the fixtures


@pytest.fixture(scope="session")
def tiny_code_model(tiny_code_model_path: str) -> Path:
    """The trained tiny code model (tests/fixtures_worker.py builds it once per session)."""
    return Path(tiny_code_model_path)


@pytest.fixture()
def code_editor(tiny_code_model: Path) -> Editor:
    if "editor" not in _built:
        _built["editor"] = load_editor(str(tiny_code_model))
    return _built["editor"]


def _defines(code: str, name: str) -> bool:
    return any(isinstance(node, ast.FunctionDef) and node.name == name for node in ast.parse(code).body)


@pytest.mark.parametrize("name", ["add", "factorial", "count_vowels", "fizzbuzz"])
def test_the_model_writes_code_that_parses_and_defines_the_entry_point(code_editor: Editor, name: str) -> None:
    trained = problem(name)
    proposals = generate_candidates(code_editor, trained.spec, 6, seed=3, max_new_tokens=160)
    assert proposals
    good = [p for p in proposals if p.syntax_error is None and _defines(p.code, name)]
    assert len(good) >= len(proposals) - 1, [p.code for p in proposals]
    known = {normalized(code) for code in trained.solutions + trained.wrong_solutions}
    assert any(normalized(p.code) in known for p in good), "a sample at 0.6 is one of the solutions it was taught"
    assert all(0.0 < p.score <= 1.0 for p in proposals)


def test_code_spans_several_lines_through_the_editor(code_editor: Editor) -> None:
    proposals = generate_candidates(code_editor, problem("factorial").spec, 4, seed=0, max_new_tokens=160)
    assert any(p.code.count("\n") >= 3 and p.syntax_error is None for p in proposals), [p.raw for p in proposals]


def test_the_model_is_a_causal_lm_without_chat_template_and_its_tokenizer_round_trips_code(code_editor: Editor) -> None:
    assert code_editor.kind == "causal"
    assert not getattr(code_editor.tokenizer, "chat_template", None)
    code = 'def f(xs):\n\tif xs == [ 1 ,2]:\n        return "ünïcode"  # done\n'
    ids = code_editor.tokenizer(code, add_special_tokens=False)["input_ids"]
    assert code_editor.tokenizer.decode(ids) == code


def test_build_is_deterministic_for_a_seed(tmp_path: Path) -> None:
    first = load_file(build_tiny_code_model(tmp_path / "a", seed=1, steps=3) / "model.safetensors")
    again = load_file(build_tiny_code_model(tmp_path / "b", seed=1, steps=3) / "model.safetensors")
    other = load_file(build_tiny_code_model(tmp_path / "c", seed=2, steps=3) / "model.safetensors")
    assert first.keys() == again.keys()
    assert all(first[k].equal(again[k]) for k in first)
    assert not all(first[k].equal(other[k]) for k in first)


def test_training_examples_use_the_coding_prompts_and_teach_a_wrong_test_and_a_wrong_solution() -> None:
    pairs = examples()
    prompts = {prompt for prompt, _ in pairs}
    assert all(candidate_prompt(p.spec) in prompts for p in PROBLEMS)
    assert 8 <= len(PROBLEMS) <= 12
    vowels = problem("count_vowels")
    assert vowels.wrong_tests[0] in vowels.tests
    assert any(vowels.wrong_solutions[0] in answer for _, answer in pairs)
    assert all(answer.startswith("\n```python\n") and answer.endswith("\n```") for _, answer in pairs)
    with pytest.raises(KeyError):
        problem("no_such_problem")
    assert isinstance(vowels.spec, ProblemSpec)
