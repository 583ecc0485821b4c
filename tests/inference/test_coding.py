import ast
import json
from dataclasses import dataclass, field

import pytest

from inference.coding import (
    NO_CODE,
    Feedback,
    ProblemSpec,
    Proposal,
    candidate_prompt,
    check_syntax,
    extract_code,
    generate_candidates,
    generate_tests,
    normalized,
    sampling_settings,
    split_checks,
    temperature_for,
)
from inference.coding import (
    tests_prompt as prompt_for_tests,  # not collected as a test
)
from inference.editor import Editor, Generated, GenerationSettings
from inference.tiny_code import problem
from tests.inference.test_tiny_code import code_editor, tiny_code_model  # noqa: F401  (fixtures, built once per session)

ADD = ProblemSpec("Return the sum of a and b.", entry_point="add", signature="add(a, b)")


# split_checks


def test_each_top_level_assert_is_a_check_even_over_several_lines() -> None:
    source = "assert add(1, 2) == 3\n\nassert add(\n    -1,\n    1,\n) == 0  # crosses zero\nassert add(0, 0) == 0\n"
    assert split_checks(source) == [
        "assert add(1, 2) == 3",
        "assert add(\n    -1,\n    1,\n) == 0",
        "assert add(0, 0) == 0",
    ]


def test_each_test_function_is_a_check_with_the_imports_and_helpers_it_uses() -> None:
    source = (
        "import math\nimport os\n\n"
        "def close(x, y):\n    return math.isclose(x, y)\n\n"
        "def test_floats():\n    assert close(add(0.1, 0.2), 0.3)\n\n"
        "def test_ints():\n    assert add(2, 2) == 4\n\n"
        "for a, b in [(1, 2), (3, 4)]:\n    assert add(a, b) == add(b, a)\n"
    )
    checks = split_checks(source)
    assert checks == [
        (
            "import math\ndef close(x, y):\n    return math.isclose(x, y)\n"
            "def test_floats():\n    assert close(add(0.1, 0.2), 0.3)"
        ),
        "def test_ints():\n    assert add(2, 2) == 4",
        "for a, b in [(1, 2), (3, 4)]:\n    assert add(a, b) == add(b, a)",
    ]
    assert all(check_syntax(c) is None for c in checks)


def test_a_restated_function_under_test_and_other_statements_are_dropped() -> None:
    source = (
        "from solution import add\n"
        "def add(a, b):\n    return 42\n"
        "add2 = lambda a: add(a, 2)\n"
        "print(add(1, 1))\n"
        "assert add2(1) == 3\n"
        "if __name__ == '__main__':\n    assert add(1, 1) == 2\n"
    )
    assert split_checks(source, entry_point="add") == ["add2 = lambda a: add(a, 2)\nassert add2(1) == 3"]
    assert split_checks("") == []
    assert split_checks("import math\nprint(1)\n") == []


def test_a_block_with_a_syntax_error_keeps_its_good_checks_and_isolates_the_bad_one() -> None:
    source = (
        "assert add(1, 2) == 3\nassert add(1, 2 == 3\nassert add(2, 2) == 4\n"
        "def test_zero():\n    assert add(0, 0) == 0\n"
    )
    checks = split_checks(source)
    assert checks == [
        "assert add(1, 2) == 3",
        "assert add(1, 2 == 3",
        "assert add(2, 2) == 4",
        "def test_zero():\n    assert add(0, 0) == 0",
    ]
    assert [check_syntax(c) is None for c in checks] == [True, False, True, True]


# check_syntax, extract_code, normalized


def test_check_syntax_reports_the_line_and_what_is_wrong() -> None:
    assert check_syntax("def f(x):\n    return x\n") is None
    message = check_syntax("x = 1\ny = (2,\n")
    assert message is not None and message.startswith("Line 2:") and "never closed" in message
    assert check_syntax("return 1") == "Line 1: 'return' outside function (return 1)"
    assert check_syntax("x = 1\0") is not None


def test_extract_code_takes_the_first_python_block() -> None:
    text = "Sure! Here it is:\n```python\ndef add(a, b):\n    return a + b\n```\nOr:\n```python\nadd = sum\n```"
    assert extract_code(text) == "def add(a, b):\n    return a + b"
    assert extract_code("```\n    x = 1\n    y = 2\n```") == "x = 1\ny = 2", "an untagged block, dedented"
    assert extract_code("```text\nnot code\n```\n```py\nx = 1\n```") == "x = 1"
    assert extract_code("\n```python\ndef f():\n    return 1") == "def f():\n    return 1", (
        "an unclosed fence runs to the end"
    )


def test_extract_code_without_fences_stops_at_prose() -> None:
    text = (
        "Here is the code:\n\ndef add(a, b):\n    result = a + b\n\n    return result\n\n"
        "This function adds two numbers.\nx = 1"
    )
    assert extract_code(text) == "def add(a, b):\n    result = a + b\n\n    return result"
    assert (
        extract_code("x = add(\n    1, 2)\nif x:\n    print(x)\nNote: it prints 3.")
        == "x = add(\n    1, 2)\nif x:\n    print(x)"
    )
    assert extract_code("I cannot help with that.") == ""


def test_normalized_ignores_spacing_and_comments_but_not_behaviour() -> None:
    a = "def add(a, b):\n    return a + b\n"
    assert normalized(a) == normalized("def add(a,b):  # sum\n\n    return (a + b)")
    assert normalized(a) != normalized("def add(a, b):\n    return a - b")
    assert normalized("def f(:\n  x") == normalized("def   f(:\n x"), (
        "text that does not parse is compared without whitespace runs"
    )


# prompts


def test_the_candidate_prompt_states_the_problem_the_function_and_the_format() -> None:
    prompt = candidate_prompt(ADD)
    assert prompt.startswith("Write a Python function")
    assert "Return the sum of a and b." in prompt
    assert "Name the function add." in prompt
    assert "Use this signature: def add(a, b)" in prompt
    assert prompt.endswith("without tests or explanations.") and "```python" in prompt
    assert "failed" not in prompt and "rejected" not in prompt
    assert candidate_prompt(ADD) == prompt == candidate_prompt(ADD, Feedback())


def test_the_candidate_prompt_renders_every_kind_of_feedback_as_short_bullets() -> None:
    trace = (
        "Traceback (most recent call last):\n"
        + "".join(f'  File "check.py", line {i}\n' for i in range(20))
        + "AssertionError: 5 != 4"
    )
    feedback = Feedback(
        failing=[("assert add(2, 2) == 4", trace)],
        rejected_tests=["assert add(2, 2) == 5"],
        critique="Handle floats too.",
        rejected_candidates=["def add(a, b):\n    return a * b"],
    )
    prompt = candidate_prompt(ADD, feedback)
    assert "These tests failed on the earlier code; make them pass:\n- assert add(2, 2) == 4\n" in prompt
    assert "  > AssertionError: 5 != 4" in prompt
    assert "line 0\n" not in prompt, "only the end of a long traceback"
    assert "These tests were judged wrong; ignore them:\n- assert add(2, 2) == 5" in prompt
    assert "Reviewer's critique: Handle floats too." in prompt
    assert "These solutions were rejected; write a different one:\n- def add(a, b):\n      return a * b" in prompt
    assert candidate_prompt(ADD, feedback) == prompt
    assert prompt.index("Problem:") < prompt.index("failed") < prompt.index("Answer with one")


def test_the_tests_prompt_asks_for_asserts_and_carries_rejected_tests_and_critique() -> None:
    feedback = Feedback(
        failing=[("assert add(2, 2) == 4", "AssertionError")],
        rejected_tests=["assert add(2, 2) == 5"],
        critique="Cover negative numbers.",
        rejected_candidates=["def add(a, b):\n    return a * b"],
    )
    prompt = prompt_for_tests(ADD, feedback)
    assert "Write tests for a Python function" in prompt
    assert "The function is named add." in prompt
    assert "each check is one assert statement that calls add" in prompt.lower()
    assert "These tests were judged wrong; do not write them again:\n- assert add(2, 2) == 5" in prompt
    assert "Reviewer's critique: Cover negative numbers." in prompt
    assert "return a * b" not in prompt and "make them pass" not in prompt, "candidate feedback is not for tests"
    assert "calls the function" in prompt_for_tests(ProblemSpec("Sort a list."))


def test_the_function_name_comes_from_the_entry_point_or_the_signature() -> None:
    assert ProblemSpec("x", signature="def solve(xs: list[int]) -> int:").function_name == "solve"
    assert ProblemSpec("x", entry_point="main", signature="def solve(xs)").function_name == "main"
    assert ProblemSpec("x").function_name == ""


# sampling


def test_temperature_rises_with_the_attempt_up_to_a_cap() -> None:
    assert [temperature_for(a) for a in (1, 2, 3, 4, 5, 9)] == [0.6, 0.8, 1.0, 1.2, 1.2, 1.2]
    with pytest.raises(ValueError):
        temperature_for(0)


def test_sampling_settings_are_recordable() -> None:
    settings = sampling_settings(2, seed=5, batch_size=4, max_new_tokens=100)
    assert settings.do_sample and settings.temperature == 0.8 and settings.seed == 5
    assert settings.first_line_only is False, "code spans lines"
    stored = json.loads(json.dumps(settings.as_dict()))
    assert GenerationSettings(**stored) == settings


@dataclass
class ScriptedEditor:
    """Answers generate() with scripted texts, and records what it was asked."""

    answers: list[str]
    calls: list[tuple[list[str], GenerationSettings]] = field(default_factory=list)

    def generate(self, prompts, settings=GenerationSettings(), on_progress=None):
        self.calls.append((prompts, settings))
        return [Generated(text=self.answers[i % len(self.answers)], score=0.5) for i in range(len(prompts))]


def test_candidates_are_deduplicated_and_broken_ones_kept_with_their_error() -> None:
    answers = [
        "```python\ndef add(a, b):\n    return a + b\n```",
        "```python\ndef add(a,b):  # again\n    return a+b\n```",
        "```python\ndef add(a, b):\n    return a - b\n```",
        "```python\ndef add(a, b)\n    return a + b\n```",
        "Sorry, I cannot do that.",
        "I do not know.",
    ]
    editor = ScriptedEditor(answers)
    proposals = generate_candidates(editor, ADD, 6, attempt=3, seed=9, batch_size=2)
    assert [p.code for p in proposals] == [
        "def add(a, b):\n    return a + b",
        "def add(a, b):\n    return a - b",
        "def add(a, b)\n    return a + b",
        "",
    ]
    assert [p.syntax_error is None for p in proposals] == [True, True, False, False]
    assert proposals[2].syntax_error.startswith("Line 1:")
    assert proposals[3].syntax_error == NO_CODE
    assert proposals[0].raw == answers[0] and proposals[0].score == 0.5
    prompts, settings = editor.calls[0]
    assert prompts == [candidate_prompt(ADD)] * 6, "one batched call, the prompt repeated k times"
    assert settings == sampling_settings(3, seed=9, batch_size=2)


def test_rejected_candidates_and_excluded_code_are_not_proposed_again() -> None:
    editor = ScriptedEditor(
        ["```python\ndef add(a, b):\n    return a - b\n```", "```python\ndef add(a, b):\n    return b + a\n```"]
    )
    feedback = Feedback(rejected_candidates=["def add(a, b):\n    return a-b  # wrong"])
    proposals = generate_candidates(editor, ADD, 4, feedback=feedback)
    assert [p.code for p in proposals] == ["def add(a, b):\n    return b + a"]
    assert "return a-b" in editor.calls[0][0][0], "the rejected candidate is in the prompt"
    assert generate_candidates(editor, ADD, 4, feedback=feedback, exclude=["def add(a, b): return b + a"]) == []


def test_tests_are_split_deduplicated_across_answers_and_taken_in_turn() -> None:
    answers = [
        "```python\nassert add(1, 2) == 3\nassert add(2, 2) == 5\nassert add(0, 0) == 0\nassert True\n```",
        "```python\nassert add(1,2) == 3\nassert add(-1, 1) == 0\nassert add(5, (5) == 10\n```",
    ]
    editor = ScriptedEditor(answers)
    feedback = Feedback(rejected_tests=["assert add(2, 2) == 5"])
    tests = generate_tests(editor, ADD, 10, feedback=feedback, samples=2)
    assert [t.code for t in tests] == [
        "assert add(1, 2) == 3",  # first of answer 1
        "assert add(-1, 1) == 0",  # answer 2's first is a duplicate; its second
        "assert add(0, 0) == 0",  # the rejected test is skipped, `assert True` names no function
        "assert add(5, (5) == 10",  # does not compile: last, with its error
    ]
    assert [t.syntax_error is None for t in tests] == [True, True, True, False]
    assert tests[1].raw == answers[1]
    assert editor.calls[0][0] == [prompt_for_tests(ADD, feedback)] * 2
    assert len(generate_tests(ScriptedEditor(answers), ADD, 2, samples=2)) == 2, "at most m"
    with pytest.raises(ValueError):
        generate_tests(editor, ADD, 0)


# with a real model


def test_the_tiny_code_model_proposes_candidates_that_parse_or_say_why(code_editor: Editor) -> None:
    spec = problem("count_vowels").spec
    proposals = generate_candidates(code_editor, spec, 8, attempt=2, seed=4, max_new_tokens=160)
    assert 1 <= len(proposals) <= 8
    assert len({normalized(p.code) for p in proposals}) == len(proposals)
    for p in proposals:
        assert isinstance(p, Proposal)
        assert (p.syntax_error is None) == (check_syntax(p.code) is None and bool(p.code.strip()))
    parsed = [p for p in proposals if p.syntax_error is None]
    assert parsed and all(any(isinstance(n, ast.FunctionDef) for n in ast.parse(p.code).body) for p in parsed)
    again = generate_candidates(code_editor, spec, 8, attempt=2, seed=4, max_new_tokens=160)
    assert [p.code for p in again] == [p.code for p in proposals], "the same seed gives the same proposals"


def test_the_tiny_code_model_never_repeats_a_rejected_candidate(code_editor: Editor) -> None:
    vowels = problem("count_vowels")
    feedback = Feedback(rejected_candidates=list(vowels.wrong_solutions))
    proposals = generate_candidates(code_editor, vowels.spec, 8, feedback=feedback, seed=2, max_new_tokens=160)
    assert proposals
    assert normalized(vowels.wrong_solutions[0]) not in {normalized(p.code) for p in proposals}


def test_the_tiny_code_model_writes_checks_that_parse_and_call_the_function(code_editor: Editor) -> None:
    spec = problem("factorial").spec
    tests = generate_tests(code_editor, spec, 4, seed=1, max_new_tokens=160)
    assert 1 <= len(tests) <= 4
    assert len({normalized(t.code) for t in tests}) == len(tests)
    good = [t for t in tests if t.syntax_error is None]
    assert len(good) >= len(tests) - 1
    for t in good:
        assert "factorial" in {n.id for n in ast.walk(ast.parse(t.code)) if isinstance(n, ast.Name)}
        assert any(isinstance(n, ast.Assert) for n in ast.walk(ast.parse(t.code)))
