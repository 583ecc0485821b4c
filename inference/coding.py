"""Candidate code and candidate tests for a programming problem, from any model Editor loads.

The model answers plain prompts (`candidate_prompt`, `tests_prompt`); a causal model with a
chat template gets them as one user turn, one without as "<prompt>\\nRevised:" (inference.editor).
Nothing here runs code: answers are cut out of the model's text (`extract_code`), split into
independent checks (`split_checks`) and compiled, never executed, so that a syntax error is a
recorded result (`Proposal.syntax_error`) instead of a crash in the sandbox. Duplicates are
removed by their `ast` form, so two answers that differ only in spacing or comments count once.

A check is one independent test: a top-level `assert` (or a top-level loop, `with` or `if`
holding asserts), or a `def test_...():` function (or a HumanEval-style `def check(candidate):`).
The sandbox (inference.sandbox) runs each check in a sandbox of its own, the candidate in one
process and the check in another that calls it with plain data.

Sampling: every proposal of one call comes from one `Editor.generate` call on the same prompt
repeated (batched, seeded: the same seed, attempt and model give the same proposals). The
temperature rises with the attempt (`temperature_for`), so a regeneration explores further than
the first try. `sampling_settings` gives the exact GenerationSettings a call uses, to store with
the iteration.
"""

import ast
import keyword
import math
import re
import textwrap
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Iterable

from inference.editor import MAX_DERIVED_NEW_TOKENS, GenerationSettings

if TYPE_CHECKING:
    from inference.editor import Editor

MAX_CODE_TOKENS = MAX_DERIVED_NEW_TOKENS  # 512: room for a function of a few dozen lines
NO_CODE = "The answer contains no code."
# Feedback is cut so that a long history cannot crowd the problem out of a small model's context.
MAX_FEEDBACK_ITEMS = 5
MAX_TRACEBACK_LINES = 6
MAX_TRACEBACK_CHARS = 600
MAX_CODE_LINES = 30
MAX_CRITIQUE_CHARS = 1000


@dataclass(frozen=True)
class ProblemSpec:
    statement: str
    entry_point: str = ""  # the function the candidates must define and the tests call
    signature: str = ""  # "def add(a: int, b: int) -> int" or "add(a, b)"

    @property
    def function_name(self) -> str:
        """The entry point, or the name the signature gives; "" when neither says."""
        if self.entry_point.strip():
            return self.entry_point.strip()
        match = re.match(r"\s*(?:async\s+)?(?:def\s+)?([A-Za-z_]\w*)\s*\(", self.signature)
        return match.group(1) if match else ""


@dataclass(frozen=True)
class Feedback:
    failing: list[tuple[str, str]] = field(default_factory=list)  # (check code, traceback excerpt)
    rejected_tests: list[str] = field(default_factory=list)
    critique: str = ""
    rejected_candidates: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Proposal:
    code: str  # a candidate's code, or one check
    syntax_error: str | None  # a readable message with the line, or None when it compiles
    score: float  # the model's confidence in the whole answer it came from, 0..1
    raw: str  # the model's whole answer, as generated


# ---------------------------------------------------------------------------------------------
# Prompts


def candidate_prompt(problem: ProblemSpec, feedback: Feedback | None = None) -> str:
    """The prompt for candidate solutions: the problem, the function wanted, the feedback of
    earlier attempts as short bullet sections, and the answer format. Deterministic."""
    parts = ["Write a Python function that solves the problem below.", _problem_section(problem)]
    name = problem.function_name
    if name:
        parts.append(f"Name the function {name}.")
    if problem.signature.strip():
        parts.append(f"Use this signature: {_signature_line(problem.signature)}")
    if feedback is not None:
        parts.extend(_candidate_feedback(feedback))
    parts.append(
        "Answer with one ```python block that contains the complete function and the imports it "
        "needs, without tests or explanations."
    )
    return "\n\n".join(parts)


def tests_prompt(problem: ProblemSpec, feedback: Feedback | None = None) -> str:
    """The prompt for test cases: independent assert statements that call the function, with
    the rejected tests and the critique of earlier attempts. Deterministic."""
    name = problem.function_name
    parts = ["Write tests for a Python function that solves the problem below.", _problem_section(problem)]
    if name:
        parts.append(f"The function is named {name}.")
    if problem.signature.strip():
        parts.append(f"Its signature: {_signature_line(problem.signature)}")
    if feedback is not None:
        if feedback.rejected_tests:
            parts.append(_bullets("These tests were judged wrong; do not write them again:", feedback.rejected_tests))
        if feedback.critique.strip():
            parts.append(f"Reviewer's critique: {_cut(feedback.critique.strip(), MAX_CRITIQUE_CHARS)}")
    calls = f"calls {name}" if name else "calls the function"
    parts.append(
        f"Write 3 to 5 independent checks. Each check is one assert statement that {calls} with "
        "concrete arguments and compares the result with the expected value. Do not write the "
        "function itself.\nAnswer with one ```python block."
    )
    return "\n\n".join(parts)


def _problem_section(problem: ProblemSpec) -> str:
    return "Problem:\n" + problem.statement.strip()


def _signature_line(signature: str) -> str:
    line = " ".join(signature.strip().split())
    if not line.startswith(("def ", "async def ")):
        line = "def " + line
    return line.rstrip(":")


def _candidate_feedback(feedback: Feedback) -> list[str]:
    sections = []
    if feedback.failing:
        items = [
            _code_item(check) + ("\n" + _indent(_tail(trace), "  > ") if trace.strip() else "")
            for check, trace in feedback.failing[:MAX_FEEDBACK_ITEMS]
        ]
        sections.append("These tests failed on the earlier code; make them pass:\n" + "\n".join(items))
    if feedback.rejected_tests:
        sections.append(_bullets("These tests were judged wrong; ignore them:", feedback.rejected_tests))
    if feedback.critique.strip():
        sections.append(f"Reviewer's critique: {_cut(feedback.critique.strip(), MAX_CRITIQUE_CHARS)}")
    if feedback.rejected_candidates:
        sections.append(_bullets("These solutions were rejected; write a different one:", feedback.rejected_candidates))
    return sections


def _bullets(title: str, codes: list[str]) -> str:
    return title + "\n" + "\n".join(_code_item(code) for code in codes[:MAX_FEEDBACK_ITEMS])


def _code_item(code: str) -> str:
    """A bullet: "- " before the first line, two spaces before the others."""
    lines = code.strip("\n").rstrip().splitlines() or [""]
    if len(lines) > MAX_CODE_LINES:
        lines = lines[:MAX_CODE_LINES] + ["..."]
    lines = textwrap.dedent("\n".join(lines)).splitlines()
    return "- " + "\n".join([lines[0]] + ["  " + line if line else "" for line in lines[1:]])


def _tail(trace: str) -> str:
    """The end of a traceback, where the exception and the failing line are."""
    lines = [line.rstrip() for line in trace.strip().splitlines() if line.strip()]
    return _cut_left("\n".join(lines[-MAX_TRACEBACK_LINES:]), MAX_TRACEBACK_CHARS)


def _indent(text: str, prefix: str) -> str:
    return "\n".join(prefix + line for line in text.splitlines())


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3].rstrip() + "..."


def _cut_left(text: str, limit: int) -> str:
    return text if len(text) <= limit else "..." + text[-(limit - 3) :]


# ---------------------------------------------------------------------------------------------
# Reading the model's answer

_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_+.-]*)[^\n]*\n(.*?)(?:```|\Z)", re.DOTALL)
_PYTHON_TAGS = {"python", "py", "python3", "py3"}
_KEYWORDS = set(keyword.kwlist) | set(keyword.softkwlist)
# A sentence: an (optionally numbered or bulleted) word, then a colon at the end of the line or
# a space and another word. "x = 1" or "print (x)" are not.
_PROSE_START = re.compile(r"(?:[-*]\s+|\d+[.)]\s+)?([A-Za-z][\w'’]*)(?::[ \t]*$|[:,;]?[ \t]+[A-Za-z`\"'])")


def extract_code(text: str) -> str:
    """The code of a model's answer: the first ```python fenced block (else the first untagged
    fenced block); without fences, the text from its first line of code up to the next line
    that is clearly prose. An unclosed fence runs to the end of the text."""
    blocks = [(tag.lower(), body) for tag, body in _FENCE.findall(text)]
    chosen = next((body for tag, body in blocks if tag in _PYTHON_TAGS), None)
    if chosen is None:
        chosen = next((body for tag, body in blocks if not tag), None)
    if chosen is None:
        chosen = _code_before_prose(text)
    return textwrap.dedent(chosen).strip("\n").rstrip()


def _code_before_prose(text: str) -> str:
    lines = text.splitlines()
    start = 0
    while start < len(lines) and (not lines[start].strip() or _is_prose(lines[start])):
        start += 1
    end = start
    while end < len(lines) and not _is_prose(lines[end]):
        end += 1
    return "\n".join(lines[start:end])


def _is_prose(line: str) -> bool:
    """An unindented line that reads as a sentence and is not Python on its own."""
    if not line.strip() or line[0] in " \t#@":
        return False
    match = _PROSE_START.match(line)
    if match is None:
        return False
    if match.group(1) in _KEYWORDS and not line.startswith(("-", "*")) and not line[0].isdigit():
        return False
    try:
        ast.parse(line.strip())
    except (SyntaxError, ValueError):
        return True
    return False


def check_syntax(code: str) -> str | None:
    """None when the code compiles; else a readable message with the line number. Compiles
    only (as the sandbox will), so errors the parser alone misses, such as `return` outside
    a function, are found too. Nothing is executed."""
    try:
        compile(code, "<proposal>", "exec", dont_inherit=True)
    except SyntaxError as exc:
        lines = code.splitlines()
        text = exc.text or (lines[exc.lineno - 1] if exc.lineno and exc.lineno <= len(lines) else "")
        message = f"Line {exc.lineno}: {exc.msg}" if exc.lineno else f"Syntax error: {exc.msg}"
        return message + (f" ({text.strip()})" if text.strip() else "")
    except ValueError as exc:  # null bytes, on Python 3.11
        return f"Cannot be parsed: {exc}"
    except (RecursionError, MemoryError):
        return "Cannot be parsed: the code is nested too deeply."
    return None


def normalized(code: str) -> str:
    """The form two proposals are compared by: the ast dump when the code parses (spacing,
    comments and quotes do not matter), else the text with runs of whitespace made one space."""
    try:
        return ast.dump(ast.parse(code))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return " ".join(code.split())


# ---------------------------------------------------------------------------------------------
# Splitting test code into checks


def split_checks(source: str, entry_point: str = "") -> list[str]:
    """Independent checks, in the order of the source.

    Every top-level assert, every top-level statement holding asserts (a loop over cases), and
    every `def test_*` or `def check` function is one check. The rest is the preamble: each
    import, helper function, class or assignment is prepended to the checks that use the names
    it binds (directly or through another preamble statement), in source order. A preamble
    statement that defines `entry_point` (a model restating the function under test) or imports
    it is dropped: the candidate provides it. Other statements (prints, calls, `if __name__ ==
    "__main__":` blocks) are dropped.

    A block that does not parse is cut where a new top-level statement begins; each piece that
    does not parse on its own comes back as a check of its own, so compiling it reports the error.
    """
    items = _statements(textwrap.dedent(source))
    preamble = [(node, text) for node, text in items if node is not None and _role(node, entry_point) == "preamble"]
    checks = []
    for node, text in items:
        if node is None:
            checks.append(text)
        elif _role(node, entry_point) == "check":
            needed = _needed_preamble(node, preamble)
            checks.append("\n".join([t for _, t in needed] + [text]))
    return checks


def _statements(source: str) -> list[tuple[ast.stmt | None, str]]:
    """(statement, its source) for each top-level statement; (None, text) for a piece that does not parse."""
    try:
        return _parsed_statements(source, ast.parse(source))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        pass
    items: list[tuple[ast.stmt | None, str]] = []
    for chunk in _chunks(source):
        try:
            items.extend(_parsed_statements(chunk, ast.parse(chunk)))
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            items.append((None, chunk))
    return items


def _parsed_statements(source: str, module: ast.Module) -> list[tuple[ast.stmt | None, str]]:
    items: list[tuple[ast.stmt | None, str]] = []
    for node in module.body:
        text = ast.get_source_segment(source, node) or ast.unparse(node)
        decorators = [ast.get_source_segment(source, d) or ast.unparse(d) for d in getattr(node, "decorator_list", [])]
        items.append((node, "\n".join([f"@{d}" for d in decorators] + [text])))
    return items


def _chunks(source: str) -> list[str]:
    """Pieces of a block that does not parse: a new piece starts at an unindented line when the
    piece so far parses, or when the line clearly starts a new check."""
    chunks: list[list[str]] = [[]]
    for line in source.splitlines():
        current = chunks[-1]
        starts_statement = line[:1] not in ("", " ", "\t", ")", "]", "}") and not line.startswith(
            ("else", "elif", "except", "finally")
        )
        new_check = line.startswith(("assert ", "assert(", "def test", "def check", "async def test"))
        opens_piece = starts_statement and not _last_code_line(current).startswith("@")
        if current and opens_piece and (new_check or _parses("\n".join(current))):
            chunks.append([])
        chunks[-1].append(line)
    return [text for text in ("\n".join(c).strip("\n") for c in chunks) if text.strip()]


def _last_code_line(lines: list[str]) -> str:
    return next((line for line in reversed(lines) if line.strip()), "")


def _parses(code: str) -> bool:
    try:
        ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def _role(node: ast.stmt, entry_point: str) -> str:
    """ "check", "preamble" or "drop"."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        if node.name.startswith("test") or node.name == "check":
            return "check"
        return "drop" if node.name == entry_point else "preamble"
    if isinstance(node, ast.ClassDef):
        return "drop" if node.name == entry_point else "preamble"
    if _is_main_guard(node):
        return "drop"
    if any(isinstance(n, ast.Assert) for n in ast.walk(node)):
        return "check"
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        names = _bound_names(node)
        return "drop" if entry_point and names == {entry_point} else "preamble"
    bound = _bound_names(node)
    if not bound:
        return "drop"
    return "drop" if entry_point in bound else "preamble"


def _is_main_guard(node: ast.stmt) -> bool:
    return (
        isinstance(node, ast.If)
        and isinstance(node.test, ast.Compare)
        and isinstance(node.test.left, ast.Name)
        and node.test.left.id == "__name__"
    )


def _bound_names(node: ast.stmt) -> set[str]:
    """The top-level names a statement binds ("*" for a star import)."""
    if isinstance(node, ast.Import):
        return {(a.asname or a.name).split(".")[0] for a in node.names}
    if isinstance(node, ast.ImportFrom):
        return {a.asname or a.name for a in node.names}
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    targets: list[ast.expr] = []
    if isinstance(node, ast.Assign):
        targets = node.targets
    elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
        targets = [node.target]
    names = set()
    for target in targets:
        names |= {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}
    return names


def _used_names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _needed_preamble(check: ast.stmt, preamble: list[tuple[ast.stmt, str]]) -> list[tuple[ast.stmt, str]]:
    """The preamble statements the check uses, directly or through one another, in source order."""
    wanted = _used_names(check)
    chosen: set[int] = set()
    changed = True
    while changed:
        changed = False
        for i, (node, _) in enumerate(preamble):
            bound = _bound_names(node)
            if i not in chosen and ("*" in bound or bound & wanted):
                chosen.add(i)
                wanted |= _used_names(node)
                changed = True
    return [item for i, item in enumerate(preamble) if i in chosen]


# ---------------------------------------------------------------------------------------------
# Generation


def temperature_for(attempt: int) -> float:
    """The sampling temperature of an attempt: 0.6 on the first, 0.2 more on each regeneration,
    at most 1.2 (0.6, 0.8, 1.0, 1.2, 1.2, ...). Low enough at first for mostly valid code, and
    higher when the earlier samples did not satisfy, so the model tries something else."""
    if attempt < 1:
        raise ValueError("attempt counts from 1")
    return round(min(0.6 + 0.2 * (attempt - 1), 1.2), 2)


def sampling_settings(
    attempt: int = 1, *, seed: int = 0, batch_size: int = 8, max_new_tokens: int = MAX_CODE_TOKENS
) -> GenerationSettings:
    """The exact settings generate_candidates and generate_tests use for these arguments;
    `.as_dict()` is what to store with the iteration."""
    return GenerationSettings(
        batch_size=batch_size,
        num_beams=1,
        max_new_tokens=max_new_tokens,
        do_sample=True,
        temperature=temperature_for(attempt),
        seed=seed,
        first_line_only=False,
    )


def tests_samples(m: int) -> int:
    """How many answers generate_tests asks for to get m tests: each holds 3 to 5 checks, and
    duplicates across answers are common, so one answer per two tests wanted."""
    return max(1, math.ceil(m / 2))


def generate_candidates(
    editor: "Editor",
    problem: ProblemSpec,
    k: int,
    *,
    feedback: Feedback | None = None,
    attempt: int = 1,
    seed: int = 0,
    batch_size: int = 8,
    max_new_tokens: int = MAX_CODE_TOKENS,
    exclude: Iterable[str] = (),
    on_progress: Callable[[int, int], None] | None = None,
) -> list[Proposal]:
    """At most k candidate solutions from k samples of `candidate_prompt`, in sample order.

    A sample whose code does not compile is kept with its syntax_error. A sample that repeats
    an earlier one, a rejected candidate of the feedback, or any code in `exclude` (earlier
    iterations' candidates), compared by `normalized` form, is left out: fewer than k come back
    rather than a repeat."""
    if k < 1:
        raise ValueError("k must be at least 1")
    settings = sampling_settings(attempt, seed=seed, batch_size=batch_size, max_new_tokens=max_new_tokens)
    outputs = editor.generate([candidate_prompt(problem, feedback)] * k, settings, on_progress)
    rejected = feedback.rejected_candidates if feedback is not None else []
    seen = {normalized(code) for code in [*rejected, *exclude]}
    proposals = []
    for out in outputs:
        code = extract_code(out.text)
        key = normalized(code)
        if key in seen:
            continue
        seen.add(key)
        error = check_syntax(code) if code.strip() else NO_CODE
        proposals.append(Proposal(code=code, syntax_error=error, score=out.score, raw=out.text))
    return proposals


def generate_tests(
    editor: "Editor",
    problem: ProblemSpec,
    m: int,
    *,
    feedback: Feedback | None = None,
    attempt: int = 1,
    seed: int = 0,
    batch_size: int = 8,
    samples: int | None = None,
    max_new_tokens: int = MAX_CODE_TOKENS,
    exclude: Iterable[str] = (),
    on_progress: Callable[[int, int], None] | None = None,
) -> list[Proposal]:
    """At most m checks from `samples` (default tests_samples(m)) answers to `tests_prompt`.

    Each answer is split into checks (split_checks); checks are deduplicated across answers by
    normalized form, and a rejected test of the feedback or a code in `exclude` never comes
    back. A check that compiles but never names the function under test (`assert True`) is
    left out. Checks are taken in turn from each answer (the first of every answer, then the
    second...), those that compile first; a check that does not compile is kept with its
    syntax_error while room remains."""
    if m < 1:
        raise ValueError("m must be at least 1")
    n = samples or tests_samples(m)
    settings = sampling_settings(attempt, seed=seed, batch_size=batch_size, max_new_tokens=max_new_tokens)
    outputs = editor.generate([tests_prompt(problem, feedback)] * n, settings, on_progress)
    rejected = feedback.rejected_tests if feedback is not None else []
    seen = {normalized(code) for code in [*rejected, *exclude]}
    name = problem.function_name
    per_answer: list[list[Proposal]] = []
    for out in outputs:
        found = []
        for check in split_checks(extract_code(out.text), name):
            key = normalized(check)
            if key in seen:
                continue
            seen.add(key)
            error = check_syntax(check)
            if error is None and name and not _names_function(check, name):
                continue
            found.append(Proposal(code=check, syntax_error=error, score=out.score, raw=out.text))
        per_answer.append(found)
    in_turn = _round_robin(per_answer)
    ordered = [p for p in in_turn if p.syntax_error is None] + [p for p in in_turn if p.syntax_error is not None]
    return ordered[:m]


def _names_function(check: str, name: str) -> bool:
    """Whether a check uses the function under test: by name, or as the candidate a
    HumanEval-style `def check(candidate):` is given."""
    tree = ast.parse(check)
    defines_check = any(isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name == "check" for n in tree.body)
    return defines_check or name in _used_names(tree)


def _round_robin(groups: list[list[Proposal]]) -> list[Proposal]:
    out = []
    for i in range(max(map(len, groups), default=0)):
        out.extend(group[i] for group in groups if i < len(group))
    return out
