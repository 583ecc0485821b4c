"""The everyday-prose suite: its data, its held-out part, and the figures it gives."""

import json

import pytest

from inference.diffing import EditAction
from inference.editor_data import everyday
from inference.editor_data.everyday import KINDS, REGISTERS, EverydaySentence, SuiteError, load_suite
from inference.editor_data.general import general_sentences, usable
from inference.everyday_eval import EverydayOutcome, figures, meets_targets, word_distance


def test_the_suite_has_what_the_issue_asks_for() -> None:
    suite = load_suite()
    with_errors = [s for s in suite if not s.correct]
    correct = [s for s in suite if s.correct]
    assert len(with_errors) >= 400 and len(correct) >= 400
    assert {s.register for s in suite} == set(REGISTERS)
    for register in REGISTERS:
        assert sum(s.register == register and s.correct for s in suite) >= 50
    kinds = [k for s in with_errors for k in s.kinds]
    assert all(kinds.count(k) >= 20 for k in KINDS), {k: kinds.count(k) for k in KINDS}
    assert len({s.source for s in suite}) == len(suite), "every sentence once"


def test_the_held_out_part_is_half_and_apart_from_the_tuning_part() -> None:
    tune, held = load_suite("tune"), load_suite("held_out")
    assert not {s.source for s in tune} & {s.source for s in held}
    assert len(tune) + len(held) == len(load_suite())
    assert 0.4 < len(held) / len(load_suite()) < 0.6
    assert sum(not s.correct for s in held) >= 200 and sum(s.correct for s in held) >= 200
    with pytest.raises(ValueError, match="part"):
        load_suite("train")


def test_a_malformed_line_is_named(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(everyday, "DATA_DIR", tmp_path)
    good = {"source": "I has a cat.", "target": "I have a cat.", "kinds": ["agreement"]}
    lines = [json.dumps(good), json.dumps({**good, "kinds": []})]
    (tmp_path / "emails.jsonl").write_text("\n".join(lines) + "\n")
    with pytest.raises(SuiteError, match="emails.jsonl line 2: a correct sentence has no kinds"):
        load_suite(registers=("emails",))
    (tmp_path / "emails.jsonl").write_text("{not json\n")
    with pytest.raises(SuiteError, match="line 1: not JSON"):
        load_suite(registers=("emails",))
    (tmp_path / "emails.jsonl").write_text(json.dumps({**good, "kinds": ["typo"]}) + "\n")
    with pytest.raises(SuiteError, match="kinds must be a list"):
        load_suite(registers=("emails",))


def test_no_training_sentence_is_a_suite_sentence() -> None:
    suite = [s.source for s in load_suite()] + [s.target for s in load_suite()]
    team = general_sentences(["team"], exclude=suite)
    assert len(team) > 1000
    folded = {" ".join(s.lower().replace(",", " ").split()) for s in suite}
    assert not any(" ".join(t.lower().replace(",", " ").split()) in folded for t in team)
    assert (
        usable("The runners reached the finish line, panting heavily")
        == "The runners reached the finish line, panting heavily."
    )
    assert usable("force out the air") is None  # a fragment, no capital
    assert usable("I recieve mail daily.") is None  # not every word is English
    with pytest.raises(ValueError, match="unknown general source"):
        general_sentences(["fortunes"])


def outcome(source: str, target: str, proposed: list[tuple[int, int, str, str]]) -> EverydayOutcome:
    sentence = EverydaySentence("emails", source, target, ("spelling",) if source != target else ())
    edits = [EditAction("R" if b and a else "A" if a else "D", s, e, b, a) for s, e, b, a in proposed]
    return EverydayOutcome(sentence, edits)


def test_the_figures_count_right_and_wrong_edits_found_and_harmed_sentences() -> None:
    src, tgt = "I recieve teh mail.", "I receive the mail."
    fixed_one = outcome(src, tgt, [(2, 9, "recieve", "receive")])
    wrong = outcome(src, tgt, [(14, 18, "mail", "post")])
    clean_touched = outcome("All is well.", "All is well.", [(0, 3, "All", "Everything")])
    clean_left = outcome("All is fine.", "All is fine.", [])
    row = figures([fixed_one, wrong, clean_touched, clean_left], seconds=2.0)
    assert row["proposed"] == 3 and row["precision"] == pytest.approx(1 / 3, abs=1e-4)
    assert row["recall"] == 0.25  # one of the four corrections (two per sentence with mistakes)
    assert row["harm"] == 0.5  # the wrong edit and the touched clean sentence
    assert row["untouched"] == 0.5 and row["improved"] == 0.5 and row["sentences_per_s"] == 2.0
    assert not meets_targets(row)


def test_a_correction_found_in_two_pieces_counts_as_found() -> None:
    src, tgt = "You should of recieved it.", "You should have received it."
    two = outcome(src, tgt, [(11, 13, "of", "have"), (14, 22, "recieved", "received")])
    assert all(two.found) and all(two.right) and not two.harmed
    assert word_distance(two.output, tgt) == 0 and word_distance(src, tgt) == 2
