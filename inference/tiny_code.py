"""A tiny causal LM that writes runnable Python for a handful of problems, trained on a CPU in half a minute.

    python -m inference.tiny_code OUT [--seed 0] [--steps 300]

For tests and offline end-to-end runs of the coding loop (inference.coding) with a model that
writes real code: a small Llama from a config and a byte-level BPE tokenizer trained on its own
examples, no chat template. The examples are laid out exactly as Editor prompts such a model
(inference.editor.format_causal_prompt: "<prompt>\\nRevised:" then the answer and </s>), with
the prompts of inference.coding:

- candidate_prompt -> a ```python block with a solution. Some problems have two correct
  variants, and count_vowels also a wrong one (it forgets upper-case vowels), so samples differ
  and candidates disagree.
- tests_prompt -> a ```python block of 3 to 4 asserts. One of count_vowels' asserts is wrong
  (`count_vowels("Apple") == 1`, the answer of the wrong variant): generated tests can be as
  wrong as generated code (ConAIR).
- the same prompts with feedback (a failing test, a critique, a rejected candidate or test) ->
  an answer that heeds it, so "regenerate with feedback" moves the model the right way.

The model memorises these; sampled at temperature 0.6-1.0 on the same prompts it writes mostly
valid, mostly correct code. On anything else its output is nonsense. The same seed and steps
give the same weights (on the same torch thread count).
"""

import argparse
import json
import math
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from inference.coding import Feedback, ProblemSpec, candidate_prompt, tests_prompt
from inference.editor_train import (
    build_tokenizer,  # the built-in editor's byte-level BPE, with its own vocabulary size
)
from inference.model_card import write_model_card

VOCAB_SIZE = 640
CARD_NAME = "training_card.json"
DEFAULT_STEPS = 300


@dataclass(frozen=True)
class CodeProblem:
    spec: ProblemSpec
    solutions: tuple[str, ...]  # correct
    tests: str  # a block of asserts
    wrong_solutions: tuple[str, ...] = ()  # plausible, trained on, and wrong
    wrong_tests: tuple[str, ...] = ()  # asserts of `tests` that are wrong


def _p(name: str, args: str, statement: str) -> ProblemSpec:
    return ProblemSpec(statement=statement, entry_point=name, signature=f"def {name}({args})")


PROBLEMS: tuple[CodeProblem, ...] = (
    CodeProblem(
        _p("add", "a, b", "Return the sum of the two numbers a and b."),
        ("def add(a, b):\n    return a + b",),
        "assert add(1, 2) == 3\nassert add(-1, 1) == 0\nassert add(0, 0) == 0\nassert add(10, 5) == 15",
    ),
    CodeProblem(
        _p("reverse_string", "s", "Return the string s reversed."),
        ("def reverse_string(s):\n    return s[::-1]", "def reverse_string(s):\n    return ''.join(reversed(s))"),
        'assert reverse_string("abc") == "cba"\nassert reverse_string("") == ""\n'
        'assert reverse_string("hello") == "olleh"',
    ),
    CodeProblem(
        _p("is_palindrome", "s", "Return True if the string s reads the same forwards and backwards, otherwise False."),
        ("def is_palindrome(s):\n    return s == s[::-1]",),
        'assert is_palindrome("level") == True\nassert is_palindrome("abc") == False\nassert is_palindrome("") == True',
    ),
    CodeProblem(
        _p("factorial", "n", "Return the factorial of the non-negative integer n (the factorial of 0 is 1)."),
        (
            "def factorial(n):\n    result = 1\n    for i in range(2, n + 1):\n        result *= i\n    return result",
            "def factorial(n):\n    if n <= 1:\n        return 1\n    return n * factorial(n - 1)",
        ),
        "assert factorial(0) == 1\nassert factorial(1) == 1\nassert factorial(3) == 6\nassert factorial(5) == 120",
    ),
    CodeProblem(
        _p(
            "fizzbuzz",
            "n",
            'Return "FizzBuzz" if n is divisible by 15, "Fizz" if by 3, "Buzz" if by 5, otherwise str(n).',
        ),
        (
            (
                'def fizzbuzz(n):\n    if n % 15 == 0:\n        return "FizzBuzz"\n'
                '    if n % 3 == 0:\n        return "Fizz"\n'
                '    if n % 5 == 0:\n        return "Buzz"\n    return str(n)'
            ),
        ),
        'assert fizzbuzz(3) == "Fizz"\nassert fizzbuzz(10) == "Buzz"\n'
        'assert fizzbuzz(15) == "FizzBuzz"\nassert fizzbuzz(7) == "7"',
    ),
    CodeProblem(
        _p("max_of_list", "items", "Return the largest number in the non-empty list items."),
        (
            "def max_of_list(items):\n    return max(items)",
            (
                "def max_of_list(items):\n    best = items[0]\n    for x in items:\n"
                "        if x > best:\n            best = x\n    return best"
            ),
        ),
        "assert max_of_list([1, 5, 3]) == 5\nassert max_of_list([-2, -7]) == -2\nassert max_of_list([4]) == 4",
    ),
    CodeProblem(
        _p(
            "count_vowels", "s", "Return how many vowels (a, e, i, o, u, in lower or upper case) the string s contains."
        ),
        (
            'def count_vowels(s):\n    return sum(1 for c in s.lower() if c in "aeiou")',
            (
                "def count_vowels(s):\n    count = 0\n    for c in s:\n"
                '        if c in "aeiouAEIOU":\n            count += 1\n    return count'
            ),
        ),
        'assert count_vowels("hello") == 2\nassert count_vowels("xyz") == 0\nassert count_vowels("AEIOU") == 5\n'
        'assert count_vowels("Apple") == 1',
        wrong_solutions=('def count_vowels(s):\n    return sum(1 for c in s if c in "aeiou")',),
        wrong_tests=('assert count_vowels("Apple") == 1',),
    ),
    CodeProblem(
        _p("is_even", "n", "Return True if the integer n is even, otherwise False."),
        ("def is_even(n):\n    return n % 2 == 0",),
        "assert is_even(4) == True\nassert is_even(7) == False\nassert is_even(0) == True",
    ),
    CodeProblem(
        _p("sum_list", "items", "Return the sum of the numbers in the list items (0 for an empty list)."),
        (
            "def sum_list(items):\n    return sum(items)",
            "def sum_list(items):\n    total = 0\n    for x in items:\n        total += x\n    return total",
        ),
        "assert sum_list([1, 2, 3]) == 6\nassert sum_list([]) == 0\nassert sum_list([-1, 1]) == 0",
    ),
    CodeProblem(
        _p("word_count", "s", "Return the number of words in the string s; words are separated by whitespace."),
        ("def word_count(s):\n    return len(s.split())",),
        'assert word_count("hello world") == 2\nassert word_count("") == 0\nassert word_count("  a b  c ") == 3',
    ),
)


def problem(name: str) -> CodeProblem:
    """The trained problem whose entry point is `name`."""
    for p in PROBLEMS:
        if p.spec.entry_point == name:
            return p
    raise KeyError(name)


def _answer(code: str) -> str:
    return f"\n```python\n{code}\n```"


def examples() -> list[tuple[str, str]]:
    """(prompt, answer) pairs: every problem's prompts without feedback, with each solution
    (the wrong ones too) and its tests, and with feedback, answered with what heeds it."""
    pairs: list[tuple[str, str]] = []
    for p in PROBLEMS:
        spec = p.spec
        for code in p.solutions + p.wrong_solutions:
            pairs.append((candidate_prompt(spec), _answer(code)))
        pairs.append((tests_prompt(spec), _answer(p.tests)))
        first_test = p.tests.splitlines()[0]
        failing = [
            (first_test, 'Traceback (most recent call last):\n  File "check.py", line 1, in <module>\nAssertionError')
        ]
        for code in p.solutions:
            # A failing test, a critique and a rejected candidate (the wrong one, or the other
            # correct one): answered with a correct solution that is not the rejected one.
            rejected = list(p.wrong_solutions) or [s for s in p.solutions if s != code][:1]
            feedback = Feedback(failing=failing, critique="Make sure every test passes.", rejected_candidates=rejected)
            pairs.append((candidate_prompt(spec, feedback), _answer(code)))
        if p.wrong_tests:
            kept = "\n".join(line for line in p.tests.splitlines() if line not in p.wrong_tests)
            feedback = Feedback(rejected_tests=list(p.wrong_tests), critique="Check the expected values.")
            pairs.append((tests_prompt(spec, feedback), _answer(kept)))
            pairs.append((candidate_prompt(spec, feedback), _answer(p.solutions[0])))
    return pairs


def build_model(tokenizer: Any):
    from transformers import LlamaConfig, LlamaForCausalLM

    pad_id, eos_id = tokenizer.pad_token_id, tokenizer.eos_token_id
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=192,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=4,
        max_position_embeddings=1024,
        tie_word_embeddings=True,
        pad_token_id=pad_id,
        eos_token_id=eos_id,
        bos_token_id=None,
    )
    model = LlamaForCausalLM(config)
    gen = model.generation_config
    gen.pad_token_id, gen.eos_token_id, gen.bos_token_id = pad_id, eos_id, None
    gen.max_new_tokens = 256  # a bound for callers that give none
    return model


def _encode(tokenizer: Any, pairs: list[tuple[str, str]]) -> list[tuple[list[int], list[int]]]:
    """Token ids and labels of each example: the loss is on the answer and </s> only."""
    from inference.editor import format_causal_prompt

    rows = []
    for prompt, answer in pairs:
        prompt_ids = tokenizer(format_causal_prompt(tokenizer, prompt), add_special_tokens=False)["input_ids"]
        answer_ids = tokenizer(answer, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
        rows.append((prompt_ids + answer_ids, [-100] * len(prompt_ids) + answer_ids))
    return rows


def _batch(rows: list[tuple[list[int], list[int]]], pad_id: int) -> dict[str, Any]:
    import torch

    width = max(len(ids) for ids, _ in rows)
    return {
        "input_ids": torch.tensor([ids + [pad_id] * (width - len(ids)) for ids, _ in rows]),
        "attention_mask": torch.tensor([[1] * len(ids) + [0] * (width - len(ids)) for ids, _ in rows]),
        "labels": torch.tensor([labels + [-100] * (width - len(labels)) for _, labels in rows]),
    }


def build_tiny_code_model(
    path: str | Path, seed: int = 0, steps: int = DEFAULT_STEPS, batch_size: int = 8, learning_rate: float = 8e-3
) -> Path:
    """Trains the tiny code model and saves it (model, tokenizer, training_card.json) into `path`.
    On one torch thread: the model is too small to gain from more, and on a busy machine extra
    threads only wait for each other (and one thread gives the same weights everywhere)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _train_and_save(Path(path), seed, steps, batch_size, learning_rate)
    finally:
        torch.set_num_threads(threads)


def _train_and_save(path: Path, seed: int, steps: int, batch_size: int, learning_rate: float) -> Path:
    import torch

    started = time.perf_counter()
    pairs = examples()
    tokenizer = build_tokenizer([prompt + answer for prompt, answer in pairs], VOCAB_SIZE)
    torch.manual_seed(seed)
    model = build_model(tokenizer)
    rows = _encode(tokenizer, pairs)
    optimizer = torch.optim.AdamW(model.parameters(), lr=learning_rate, weight_decay=0.0)
    warmup = max(1, steps // 10)

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, steps - warmup)))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
    rng = random.Random(seed)
    order: list[int] = []
    losses = []
    model.train()
    for _ in range(steps):
        if len(order) < batch_size:
            more = list(range(len(rows)))
            rng.shuffle(more)
            order.extend(more)
        picked, order = order[:batch_size], order[batch_size:]
        loss = model(**_batch([rows[i] for i in picked], tokenizer.pad_token_id)).loss
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        losses.append(loss.item())
    model.eval()

    path.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    tail = losses[-20:] or [float("nan")]
    card = {
        "model": "LlamaForCausalLM",
        "parameters": sum(p.numel() for p in model.parameters()),
        "vocab": len(tokenizer),
        "examples": len(pairs),
        "problems": [p.spec.entry_point for p in PROBLEMS],
        "seed": seed,
        "steps": steps,
        "batch_size": batch_size,
        "learning_rate": learning_rate,
        "final_loss": round(sum(tail) / len(tail), 4),
        "seconds": round(time.perf_counter() - started, 1),
        "torch_threads": torch.get_num_threads(),
    }
    (path / CARD_NAME).write_text(json.dumps(card, indent=2) + "\n")
    names = [p.spec.entry_point for p in PROBLEMS]
    write_model_card(
        path,
        "Redline's built-in code model",
        f"A tiny offline model ({card['parameters'] / 1e6:.1f}M parameters) "
        "trained here in about half a minute: it has "
        f"memorised {len(names)} small problems ({', '.join(names)}) and writes nonsense for anything else. "
        "It is there so that the coding loop runs on a machine with no network, not to solve your problems.",
        [
            ("problems it knows", str(len(names))),
            ("training examples", str(len(pairs))),
            ("final training loss", f"{card['final_loss']:.3f}"),
        ],
        "python -m inference.tiny_code OUT",
    )
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Train the tiny code model for tests and offline demos.")
    parser.add_argument("path", help="directory to write the model and tokenizer into")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=DEFAULT_STEPS)
    args = parser.parse_args(argv)
    out = build_tiny_code_model(args.path, seed=args.seed, steps=args.steps)
    print(out, (out / CARD_NAME).read_text())


if __name__ == "__main__":
    main()
