"""Training and evaluation examples: ("<instruction prompt>: <input sentence>", target sentence).

Training draws from the training sentences, the training misspellings and the training phrase
pairs only; evaluation from the held-out ones. A training stream is an endless, deterministic
sequence for a given seed: each example's task is drawn by weight (an error type under
fix_grammar, a phrase rewrite under simplify or formal, or a clean sentence left as it is
under any of the three), then a sentence and a place for the change.
"""

import random
from dataclasses import dataclass, field
from functools import cached_property
from typing import Iterable, Iterator

from inference.editor_data import noise, phrases
from inference.editor_data.corpus import (
    PACKAGES,
    SOURCES,
    Corpus,
    build_corpus,
    stable_hash,
    words,
)
from inference.instructions import INSTRUCTIONS
from inference.revision import model_input

CLEAN_TASKS = {"clean": "fix_grammar", "clean_simplify": "simplify", "clean_formal": "formal"}
PHRASE_TASKS = ("simplify", "formal")
# The share of each task in a training stream (normalised); clean sentences are 29%. "mixed"
# puts two or three errors of different types into one sentence.
DEFAULT_MIX = {
    "clean": 0.22,
    "clean_simplify": 0.04,
    "clean_formal": 0.04,
    "misspelling": 0.22,
    "mixed": 0.08,
    "doubled_word": 0.04,
    "dropped_word": 0.08,
    "agreement": 0.07,
    "article": 0.05,
    "capitalisation": 0.04,
    "punctuation": 0.04,
    "simplify": 0.06,
    "formal": 0.06,
}
# How many misspelled words a misspelling example has (weights for 1, 2, 3): more signal per
# sentence, while the single slip that evaluation uses stays the most common.
TYPOS_PER_SENTENCE = (0.6, 0.25, 0.15)
# The spelling drill (the second phase of training the built-in editor): misspellings are 37% of
# it, most of its misspelling examples have two or three slips, and clean sentences stay at 27%
# so that it keeps leaving good text alone; the other error types keep about their phase-1 share
# (with less of them, dropped words went from 82% to 66% fixed).
DRILL_MIX = {
    "clean": 0.22,
    "clean_simplify": 0.035,
    "clean_formal": 0.035,
    "misspelling": 0.40,
    "mixed": 0.06,
    "doubled_word": 0.03,
    "dropped_word": 0.08,
    "agreement": 0.05,
    "article": 0.03,
    "capitalisation": 0.04,
    "punctuation": 0.03,
    "simplify": 0.03,
    "formal": 0.03,
}
DRILL_TYPOS_PER_SENTENCE = (0.35, 0.35, 0.3)
# The everyday phase (the third): clean sentences at 32% so that correct everyday text is left
# alone, misspellings still the largest error share, and the learners' confusions and lower-case
# names that everyday prose has and the documentation barely does.
EVERYDAY_MIX = {
    "clean": 0.28,
    "clean_simplify": 0.02,
    "clean_formal": 0.02,
    "misspelling": 0.24,
    "mixed": 0.06,
    "confusion": 0.09,
    "name_capitalisation": 0.05,
    "doubled_word": 0.03,
    "dropped_word": 0.05,
    "agreement": 0.05,
    "article": 0.04,
    "capitalisation": 0.03,
    "punctuation": 0.02,
    "simplify": 0.01,
    "formal": 0.01,
}
MIXED_ERRORS = (2, 3)


@dataclass(frozen=True)
class Example:
    task: str  # an error type, "simplify", "formal", or one of CLEAN_TASKS
    instruction: str  # a key of INSTRUCTIONS
    source: str  # the sentence the model gets
    target: str  # the sentence it should write

    @property
    def model_input(self) -> str:
        return model_input(INSTRUCTIONS[self.instruction].prompt, self.source)


@dataclass
class Resources:
    """Everything examples are made from, built once."""

    corpus: Corpus
    misspellings: noise.Misspellings
    phrase_pairs: dict[str, tuple[list[phrases.PhrasePair], list[phrases.PhrasePair]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.phrase_pairs:
            self.phrase_pairs = {task: phrases.split_pairs(pairs) for task, pairs in phrases.PHRASE_TASKS.items()}

    @cached_property
    def known_words(self) -> frozenset[str]:
        """Words that a synthetic typo must not turn into: the corpus's and codespell's corrections."""
        found = {w.lower() for s in self.corpus.train + self.corpus.held_out for w in words(s)}
        for table in (self.misspellings.train, self.misspellings.held_out):
            found.update(table)
        return frozenset(found)

    @cached_property
    def held_out_misspellings(self) -> frozenset[str]:
        return frozenset(w for ws in self.misspellings.held_out.values() for w in ws)

    def plain_for(self, task: str, sentences: list[str]) -> list[str]:
        """The sentences that can be a target for `task`: none of its long phrases in them already."""
        longs = [p.long for p in phrases.PHRASE_TASKS[task]]
        return [s for s in sentences if not phrases.contains_phrase(s, longs)]


def load_resources(sources: Iterable[str] = SOURCES, packages: Iterable[str] = PACKAGES) -> Resources:
    misspellings = noise.load_misspellings()
    corpus = build_corpus(sources, packages, exclude_words=misspellings.wrong_words())
    return Resources(corpus, misspellings)


def corrupt(
    error_type: str,
    sentence: str,
    rng: random.Random,
    resources: Resources,
    held_out: bool = False,
    synthetic_share: float = 0.0,
) -> str | None:
    """`sentence` with one error of `error_type`, or None if it has no place for one. Held-out
    misspellings are used only when `held_out`; synthetic typos only in training."""
    if error_type != "misspelling":
        return noise.CORRUPTIONS[error_type](sentence, rng)
    if held_out:
        return noise.misspelling(sentence, rng, resources.misspellings.held_out)
    if rng.random() < synthetic_share:
        typo = noise.synthetic_misspelling(sentence, rng, resources.known_words, resources.held_out_misspellings)
        if typo is not None:
            return typo
    return noise.misspelling(sentence, rng, resources.misspellings.train)


class TrainingStream:
    """An endless, deterministic stream of training examples."""

    def __init__(
        self,
        resources: Resources,
        seed: int,
        mix: dict[str, float] = DEFAULT_MIX,
        synthetic_share: float = 0.6,
        typos_per_sentence: tuple[float, ...] = TYPOS_PER_SENTENCE,
    ):
        self.resources = resources
        self.rng = random.Random(seed)
        self.synthetic_share = synthetic_share
        self.typos_per_sentence = typos_per_sentence
        sentences = resources.corpus.train
        self.sentences = sentences
        self.plain = {task: resources.plain_for(task, sentences) for task in PHRASE_TASKS}
        # For each phrase task, the training pairs that have a place in some training sentence.
        self.phrase_places: dict[str, list[tuple[phrases.PhrasePair, list[str]]]] = {}
        for task in PHRASE_TASKS:
            train_pairs, _ = resources.phrase_pairs[task]
            found = [(pair, [s for s in self.plain[task] if phrases.places(s, pair)]) for pair in train_pairs]
            self.phrase_places[task] = [(pair, found_in) for pair, found_in in found if found_in]
        # A corpus too small to offer any phrase place (the tests' tiny one) just has no such examples.
        self.tasks = [t for t in mix if mix[t] > 0 and (t not in PHRASE_TASKS or self.phrase_places[t])]
        self.weights = [mix[t] for t in self.tasks]

    def __iter__(self) -> Iterator[Example]:
        while True:
            yield self.next_example()

    def next_example(self) -> Example:
        rng = self.rng
        while True:
            task = rng.choices(self.tasks, self.weights)[0]
            if task in CLEAN_TASKS:
                instruction = CLEAN_TASKS[task]
                pool = self.sentences if instruction == "fix_grammar" else self.plain[instruction]
                sentence = rng.choice(pool)
                return Example(task, instruction, sentence, sentence)
            if task in PHRASE_TASKS:
                pair, found_in = rng.choice(self.phrase_places[task])
                sentence = rng.choice(found_in)
                return Example(task, task, phrases.lengthen(sentence, pair, rng), sentence)
            for _ in range(20):  # most sentences have a place for most errors
                sentence = rng.choice(self.sentences)
                corrupted = self._corrupt_for(task, sentence)
                if corrupted is not None and corrupted != sentence:
                    return Example(task, "fix_grammar", corrupted, sentence)

    def _corrupt_for(self, task: str, sentence: str) -> str | None:
        """`sentence` with the errors of a training example of `task`: one error of that type,
        up to three misspellings, or for "mixed" two or three errors of different types."""
        rng = self.rng
        if task == "misspelling":
            counts = range(1, len(self.typos_per_sentence) + 1)
            kinds = ["misspelling"] * rng.choices(counts, self.typos_per_sentence)[0]
        elif task == "mixed":
            kinds = rng.sample(noise.ERROR_TYPES, rng.choice(MIXED_ERRORS))
        else:
            kinds = [task]
        text: str | None = sentence
        applied = 0
        for kind in kinds:
            corrupted = corrupt(kind, text, rng, self.resources, synthetic_share=self.synthetic_share)
            if corrupted is not None:
                text, applied = corrupted, applied + 1
        return text if applied else None

    def take(self, n: int) -> list[Example]:
        return [self.next_example() for _ in range(n)]


def _in_hash_order(sentences: list[str], salt: str) -> list[str]:
    return sorted(sentences, key=lambda s: stable_hash(f"{salt}:{s}"))


def eval_sets(resources: Resources, n: int = 200, seed: int = 0) -> dict[str, list[Example]]:
    """Held-out evaluation sets of up to `n` examples each: one injected error of each type in
    held-out sentences (held-out misspellings only), clean held-out sentences under each of the
    three instructions, and phrase rewrites with training pairs and with held-out pairs."""
    held = resources.corpus.held_out
    sets: dict[str, list[Example]] = {}
    for error_type in noise.ERROR_TYPES:
        found: list[Example] = []
        for sentence in _in_hash_order(held, f"{seed}:{error_type}"):
            rng = random.Random(f"eval:{seed}:{error_type}:{sentence}")
            corrupted = corrupt(error_type, sentence, rng, resources, held_out=True)
            if corrupted is not None:
                found.append(Example(error_type, "fix_grammar", corrupted, sentence))
            if len(found) == n:
                break
        sets[error_type] = found
    for task, instruction in CLEAN_TASKS.items():
        pool = held if instruction == "fix_grammar" else resources.plain_for(instruction, held)
        sets[task] = [Example(task, instruction, s, s) for s in _in_hash_order(pool, f"{seed}:{task}")[:n]]
    for task in PHRASE_TASKS:
        train_pairs, held_pairs = resources.phrase_pairs[task]
        sets[task] = _phrase_set(task, train_pairs, resources.plain_for(task, held), n, seed)
        # Pairs never trained on are rare in held-out sentences; any sentence will do for them.
        pool = resources.plain_for(task, held + resources.corpus.train)
        sets[f"{task}_new_phrases"] = _phrase_set(task, held_pairs, pool, n, seed)
    return sets


def _phrase_set(task: str, pairs: list[phrases.PhrasePair], pool: list[str], n: int, seed: int) -> list[Example]:
    """Up to `n` examples, taking the pairs in turn so that no single pair fills the set."""
    per_pair = []
    for pair in pairs:
        found = [s for s in _in_hash_order(pool, f"{seed}:{task}:{pair.long}") if phrases.places(s, pair)]
        per_pair.append((pair, found))
    examples: list[Example] = []
    depth = 0
    while len(examples) < n and any(depth < len(found) for _, found in per_pair):
        for pair, found in per_pair:
            if depth < len(found) and len(examples) < n:
                sentence = found[depth]
                rng = random.Random(f"eval:{seed}:{task}:{pair.long}:{sentence}")
                examples.append(Example(task, task, phrases.lengthen(sentence, pair, rng), sentence))
        depth += 1
    return examples
