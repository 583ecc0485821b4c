"""Best-of-n: a reward model picks each sentence's revision among the greedy one and sampled ones."""

from pathlib import Path

import pytest

from inference.best_of_n import BestOfN, best_of_n_generate
from inference.editor import GenerationSettings, load_editor
from inference.instructions import INSTRUCTIONS
from inference.revision import model_input, revise_document

BUILTIN = Path(__file__).resolve().parents[2] / "inference" / "weights" / "redline-editor"
FIX = INSTRUCTIONS["fix_grammar"]
SENTENCES = ["The function returns the the value", "This method are called when it is created", "Its a test"]


@pytest.fixture(scope="module")
def editor():
    return load_editor(str(BUILTIN))


class Scores:
    """A scorer that rates a completion by a rule of the test's, and records what it was asked."""

    def __init__(self, rule):
        self.rule, self.asked = rule, []

    def score(self, prompts, completions):
        self.asked += list(zip(prompts, completions))
        return [self.rule(c) for c in completions]


def prompts():
    return [model_input(FIX.prompt, s) for s in SENTENCES]


def test_a_scorer_that_cannot_tell_candidates_apart_keeps_the_greedy_revisions(editor):
    greedy = editor.generate(prompts(), GenerationSettings())
    scorer = Scores(lambda completion: 0.0)
    picked = best_of_n_generate(editor, prompts(), GenerationSettings(), BestOfN(scorer, n=6, temperature=1.5))
    assert [g.text for g in picked.generated] == [g.text for g in greedy] and picked.from_sample == 0
    # Every candidate was scored, the greedy one and distinct samples beside it.
    assert len(scorer.asked) > len(SENTENCES)
    assert len(set(scorer.asked)) == len(scorer.asked)


def test_the_highest_scoring_candidate_is_kept_and_a_rerun_picks_the_same(editor):
    settings = GenerationSettings()
    greedy = [g.text for g in editor.generate(prompts(), settings)]
    longest = BestOfN(Scores(len), n=6, temperature=1.5)
    picked = best_of_n_generate(editor, prompts(), settings, longest)
    texts = [g.text for g in picked.generated]
    assert all(len(t) >= len(g) for t, g in zip(texts, greedy))
    assert picked.from_sample == sum(t != g for t, g in zip(texts, greedy)) > 0
    again = best_of_n_generate(editor, prompts(), settings, BestOfN(Scores(len), n=6, temperature=1.5))
    assert [g.text for g in again.generated] == texts


def test_revise_document_proposes_the_picked_revisions_through_the_same_filters(editor):
    text = "\n\n".join(SENTENCES)
    greedy = revise_document(editor, text, FIX.prompt, FIX.intent, GenerationSettings())
    same = revise_document(
        editor, text, FIX.prompt, FIX.intent, GenerationSettings(), best_of=BestOfN(Scores(lambda c: 0.0), n=3)
    )
    assert same.model_output == greedy.model_output and same.from_sample == 0
    alone = revise_document(editor, text, FIX.prompt, FIX.intent, GenerationSettings(), best_of=BestOfN(Scores(len), 1))
    assert alone.model_output == greedy.model_output


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="n of at least 1"):
        BestOfN(Scores(len), n=0)
    with pytest.raises(ValueError, match="temperature"):
        BestOfN(Scores(len), temperature=0)
