"""Replaying decisions against a model: it proposes what the app would, the minimum edit gain included."""

import math

import pytest

from inference.editor import GenerationSettings, load_editor
from inference.replay import ReplayCase, replay_decisions
from inference.revision import model_input, revision_from_sentences
from inference.tiny import build_tiny_model

PROMPT = "Fix grammatical errors in this sentence"
SENTENCES = ["Me and him was late to the meeting.", "The committee has finished the draft!", "She like it."]


@pytest.fixture(scope="module")
def editor(tmp_path_factory: pytest.TempPathFactory):
    return load_editor(str(build_tiny_model(tmp_path_factory.mktemp("replay") / "causal", kind="causal")))


def cases_the_model_would_propose(editor) -> list[ReplayCase]:
    """Each sentence, with the edits the model proposes there marked accepted."""
    outputs = editor.generate([model_input(PROMPT, s) for s in SENTENCES])
    cases = []
    for sentence, generated in zip(SENTENCES, outputs):
        _, edits = revision_from_sentences(sentence, [(0, len(sentence))], [generated], intent="")
        cases.append(ReplayCase(PROMPT, sentence, accepted=[(e.start, e.end, e.before, e.after) for e in edits]))
    return cases


def test_replay_counts_the_edits_it_proposes_again(editor):
    cases = cases_the_model_would_propose(editor)
    result = replay_decisions(editor, cases, GenerationSettings(min_edit_gain=-math.inf, lexicon_guard=False))
    assert result["proposed"] == sum(len(c.accepted) for c in cases) > 0
    assert result["accepted_recall"] == result["predicted_acceptance"] == 1.0


def test_replay_leaves_out_edits_below_the_minimum_gain(editor):
    cases = cases_the_model_would_propose(editor)
    result = replay_decisions(editor, cases, GenerationSettings(min_edit_gain=1e6))
    assert result["proposed"] == 0 and result["predicted_acceptance"] is None
    assert all(sample["output"] == sample["sentence"] for sample in result["samples"])


def test_replay_applies_the_lexicon_guard_like_the_app(editor):
    cases = cases_the_model_would_propose(editor)
    unguarded = replay_decisions(editor, cases, GenerationSettings(min_edit_gain=-math.inf, lexicon_guard=False))
    guarded = replay_decisions(editor, cases, GenerationSettings(min_edit_gain=-math.inf))
    # The random model rewords real words at random: under a grammar fix the guard holds most back.
    assert guarded["proposed"] < unguarded["proposed"]


def test_replay_judges_the_revision_by_the_final_text_and_doing_nothing_fixes_nothing(editor):
    cases = cases_the_model_would_propose(editor)
    # The writer ended with exactly the model's revision: everything it proposes helps.
    wanted = [ReplayCase(c.prompt, c.sentence, c.accepted, final=_applied(c)) for c in cases]
    result = replay_decisions(editor, wanted, GenerationSettings(min_edit_gain=-math.inf, lexicon_guard=False))
    assert result["final_documents"] == len(cases)
    assert result["final_edit_cost_left"] == 0 and result["final_edit_cost_reduction"] == 1.0
    assert result["final_harmful_edits"] == 0 and result["samples"][0]["final"] == wanted[0].final
    silent = replay_decisions(editor, wanted, GenerationSettings(min_edit_gain=1e6))
    assert silent["final_edit_cost_reduction"] == 0.0 and silent["final_untouched_rate"] == 1.0
    # Row by row, for the gate's paired comparison: nothing left where it helped, all of it where silent.
    assert result["row_costs"] == [0] * len(cases)
    assert sum(silent["row_costs"]) == silent["final_edit_cost_left"] > 0 and len(silent["row_costs"]) == len(cases)
    assert silent["final_edit_cost_left"] == result["final_edit_cost_before"] > 0


def _applied(case: ReplayCase) -> str:
    from inference.diffing import EditAction, apply_edits

    edits = [EditAction("R", s, e, b, a) for s, e, b, a in case.accepted]
    return apply_edits(case.sentence, edits)
