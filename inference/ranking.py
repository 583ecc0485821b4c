"""Ranking candidate solutions by dual execution agreement (CodeT), counting only trusted tests (ConAIR).

CodeT (Chen et al., 2022): candidates that pass exactly the same tests form a consensus set;
the set scores (number of candidates) x (number of tests they pass), so a behaviour that many
independent samples share and that many tests confirm comes first. Generated tests can be as
wrong as generated code (ConAIR), so once people have validated tests only the validated ones
count, and a rejected test never counts.

Pure Python over ids: the caller maps its rows to ints and the sandbox's results to booleans.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Ranked:
    candidate: int
    rank: int  # 1 for the best; every candidate has its own rank (ties are broken, see rank_candidates)
    score: int  # candidates in its consensus set x counted tests they pass
    consensus: list[int]  # the candidates that pass exactly the same counted tests, itself included
    passed_tests: list[int]  # every test it passes, counted or not
    counted_tests: list[int]  # the tests among those that count (they define its consensus set)
    reason: str  # one sentence for the developer


def counted_tests(tests: list[int], validated: set[int] = frozenset(), rejected: set[int] = frozenset()) -> list[int]:
    """The tests that count: the validated ones once any (not also rejected) is validated, else
    all of them; a rejected test never counts."""
    trusted = [t for t in tests if t in validated and t not in rejected]
    return trusted or [t for t in tests if t not in rejected]


def rank_candidates(
    candidates: list[int],
    tests: list[int],
    passed: dict[tuple[int, int], bool],
    validated: set[int] = frozenset(),
    rejected: set[int] = frozenset(),
) -> list[Ranked]:
    """Candidates best first. passed[(candidate, test)] is whether the candidate passed the
    test; a missing pair (not run, or a candidate that does not compile) counts as not passed.
    A test both validated and rejected is rejected. Ties on score go to the candidate passing
    more counted tests, then to the lower id."""
    if len(set(candidates)) != len(candidates) or len(set(tests)) != len(tests):
        raise ValueError("candidate and test ids must be unique")
    counted = counted_tests(tests, validated, rejected)
    counted_set = set(counted)
    passes = {c: [t for t in tests if passed.get((c, t), False)] for c in candidates}
    signature = {c: frozenset(t for t in passes[c] if t in counted_set) for c in candidates}
    sets: dict[frozenset[int], list[int]] = {}
    for c in candidates:
        sets.setdefault(signature[c], []).append(c)
    score = {c: len(sets[signature[c]]) * len(signature[c]) for c in candidates}
    order = sorted(candidates, key=lambda c: (-score[c], -len(signature[c]), c))

    validated_mode = any(t in validated and t not in rejected for t in tests)
    uncounted = [t for t in tests if t not in counted_set]
    rejected_uncounted = sum(1 for t in uncounted if t in rejected)
    ranked = []
    for rank, c in enumerate(order, start=1):
        consensus = sorted(sets[signature[c]])
        counted_passed = [t for t in passes[c] if t in counted_set]
        reason = _reason(
            n_passed=len(counted_passed),
            n_counted=len(counted),
            n_tests=len(tests),
            n_consensus=len(consensus),
            validated_mode=validated_mode,
            rejected_uncounted=rejected_uncounted,
            passes_uncounted=len(passes[c]) - len(counted_passed),
        )
        ranked.append(Ranked(c, rank, score[c], consensus, passes[c], counted_passed, reason))
    return ranked


def _reason(
    *,
    n_passed: int,
    n_counted: int,
    n_tests: int,
    n_consensus: int,
    validated_mode: bool,
    rejected_uncounted: int,
    passes_uncounted: int,
) -> str:
    if n_tests == 0:
        return "There are no tests yet, so every candidate scores 0."
    if n_counted == 0:
        return (
            f"No test counts: {_n(n_tests, 'test')} {'is' if n_tests == 1 else 'are all'} rejected, "
            "so every candidate scores 0."
        )
    kind = "validated test" if validated_mode else "test"
    if validated_mode:
        note = " (unvalidated tests do not count)" if passes_uncounted else ""
    else:
        note = f" ({_n(rejected_uncounted, 'rejected test')} not counted)" if rejected_uncounted else ""
    if n_passed == 0:
        none = f"Does not pass the one {kind}" if n_counted == 1 else f"Passes none of the {_n(n_counted, kind)}"
        return f"{none}{note}: score 0."
    if n_passed == n_counted:
        of = f"the one {kind}" if n_counted == 1 else f"all {_n(n_counted, kind)}"
    else:
        of = f"{n_passed} of {_n(n_counted, kind)}"
    others = n_consensus - 1
    if others == 0:
        company = "and no other candidate passes exactly these"
    else:
        company = f"the same ones as {_n(others, 'other candidate')}"
    product = f"{_n(n_consensus, 'candidate')} × {_n(n_passed, 'test')} = {n_consensus * n_passed}"
    return f"Passes {of}{note}, {company}: {product}."


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
