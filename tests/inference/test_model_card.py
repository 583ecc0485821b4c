"""Model cards: what the pages say about a shipped model; a broken card shows nothing."""

from inference.model_card import CARD_FILE, read_model_card, write_model_card


def test_a_card_reads_back_what_was_written(tmp_path):
    write_model_card(tmp_path, "Title", "Summary.", [("a", "1"), ("b", "2")], "cmd")
    card = read_model_card(str(tmp_path))
    assert (card["title"], card["summary"], card["figures"], card["measured_with"]) == (
        "Title",
        "Summary.",
        [("a", "1"), ("b", "2")],
        "cmd",
    )
    assert "REDLINE_MODEL" in card["configure_help"]


def test_no_card_a_hub_id_or_a_broken_card_give_none(tmp_path):
    assert read_model_card(str(tmp_path)) is None
    assert read_model_card("grammarly/coedit-large") is None
    (tmp_path / CARD_FILE).write_text("{not json")
    assert read_model_card(str(tmp_path)) is None
    (tmp_path / CARD_FILE).write_text('{"title": 3, "summary": "x"}')
    assert read_model_card(str(tmp_path)) is None
    (tmp_path / CARD_FILE).write_text('{"title": "t", "summary": "s", "figures": [[1, 2]]}')
    assert read_model_card(str(tmp_path))["figures"] == []


def test_the_built_in_models_carry_cards(tmp_path):
    from pathlib import Path

    from inference.tiny_code import build_tiny_code_model

    editor = read_model_card(str(Path(__file__).parents[2] / "inference" / "weights" / "redline-editor"))
    assert editor is not None and "offline" in editor["summary"] and editor["figures"]
    code = read_model_card(str(build_tiny_code_model(tmp_path / "code", steps=2)))
    assert code is not None and "memorised" in code["summary"]
