"""Judging a revision by the writer's final text (inference/final_text.py)."""

import pytest

from inference.final_text import final_text_score, span_in_final, summarize

SOURCE = "Their is a problem with the the invoice. Please call me on friday."
FINAL = "There is a problem with the invoice. Please call me on Friday, or write."  # a hand edit too


def test_only_edits_that_move_toward_the_final_text_count_and_the_rest_are_harm():
    output = "There is a problems with the invoice. Please call me in friday."
    score = final_text_score(SOURCE, output, FINAL)
    assert score.cost_before == len(" the") + 2 + 1 + len(", or write")  # "Their"->"There" costs 2
    assert (score.helpful, score.harmful) == (2, 2)  # There, the doubled "the"; "problems", "in"
    assert score.cost_left == 1 + len(", or write")  # "Friday" and the hand edit are left to the writer


def test_doing_nothing_and_proposing_junk_both_leave_all_the_work():
    nothing = final_text_score(SOURCE, SOURCE, FINAL)
    junk = final_text_score(SOURCE, "Theirs was a problem with the the invoices. Please ring me on friday!", FINAL)
    assert nothing.untouched and nothing.cost_left == nothing.cost_before and nothing.harmful == 0
    assert not junk.untouched and junk.cost_left == junk.cost_before and junk.helpful == 0 and junk.harmful >= 3
    perfect = final_text_score(SOURCE, FINAL, FINAL)
    assert perfect.cost_left == 0 and perfect.harmful == 0


def test_the_summary_rewards_fixing_not_abstaining():
    good = summarize(
        [final_text_score(SOURCE, "There is a problem with the invoice. Please call me on Friday.", FINAL)]
    )
    idle = summarize([final_text_score(SOURCE, SOURCE, FINAL)] * 2)
    assert good.cost_left == len(", or write")  # only the writer's own addition is left
    assert good.cost_reduction == 1 - good.cost_left / good.cost_before and good.harmful_share == 0.0
    assert idle.cost_reduction == 0.0 and idle.as_dict()["untouched_rate"] == 1.0
    assert summarize([]).as_dict()["edit_cost_reduction"] == 0.0


def test_a_sentence_is_followed_through_later_rounds_and_hand_edits():
    text = "Their is a problem. We will recieve it friday. Thanks."
    final = "There is a problem! We will receive it on Friday, I hope. Thanks."
    spans = [(0, 19), (20, 46), (47, 54)]
    assert [span_in_final(text, final, s, e) for s, e in spans] == [
        "There is a problem!",
        "We will receive it on Friday, I hope.",
        "Thanks.",
    ]


def test_words_the_writer_added_at_either_end_belong_to_the_sentence():
    text = "first one.\n\nsecond one"
    final = "The first one.\n\nsecond one, done."
    assert span_in_final(text, final, 0, 10) == "The first one."
    assert span_in_final(text, final, 12, 22) == "second one, done."


def test_a_deleted_sentence_comes_back_empty_and_an_unchanged_text_as_it_was():
    assert span_in_final("Keep this. Drop this.", "Keep this.", 11, 21) == ""
    assert span_in_final("Keep this. Drop this.", "Keep this. Drop this.", 11, 21) == "Drop this."
    with pytest.raises(ValueError):
        span_in_final("short", "short", 2, 9)
