"""The flywheel report: the bar of issue 13 read off the runs' JSON, and the README section it rewrites."""

import json

import pytest

from bench import flywheel_report as report


def tally(acceptance: float, cost: int, proposals: int = 100) -> dict:
    return {
        "acceptance": acceptance,
        "cost_after": cost,
        "cost_before": 200,
        "proposals": proposals,
        "rejected": 5,
        "lines": 64,
        "untouched": 2,
    }


def round_(writer: str, k: int, probe: dict, promoted: str = "", candidate_probe: dict | None = None) -> dict:
    return {
        "writer": writer,
        "round": k,
        "probe": probe,
        "tally": probe,
        "promoted": promoted,
        "candidate_probe": candidate_probe,
        "candidate": f"#{k + 1}" if promoted else "",
        "version": f"#{k}",
        "gate": "the gate's reasons" if promoted else "",
    }


def test_the_bar_needs_less_to_fix_high_acceptance_and_nothing_collapsed_promoted():
    good = [round_("a", 1, tally(0.45, 30), "yes", tally(0.9, 20)), round_("a", 2, tally(0.9, 20))]
    proposing_less = [round_("b", 1, tally(0.45, 30), "yes", tally(1.0, 30)), round_("b", 2, tally(1.0, 30))]
    collapsed = [
        round_("c", 1, tally(0.45, 30), "yes", tally(None, 10, proposals=0)),
        round_("c", 2, tally(0.9, 10)),
    ]
    lines, met = report.verdict_table({"rounds": good})
    assert met and "| a | 45.0% / 30 | 90.0% / 20 | 33.3% | yes | no |" in lines
    for rounds in (proposing_less, collapsed):
        _, met = report.verdict_table({"rounds": rounds})
        assert not met


def test_the_preference_model_is_judged_on_round_two_against_none():
    with_model = {"rounds": [round_("a", 1, tally(0.5, 9)), round_("a", 2, tally(0.8, 9))]}
    without = {"rounds": [round_("a", 1, tally(0.5, 9)), round_("a", 2, tally(0.6, 9))]}
    lines, met = report.preference_table(with_model, without)
    assert met and "| a | 60.0% | 80.0% | +20.0 |" in lines[-1]
    _, met = report.preference_table(with_model, with_model)
    assert not met


def test_the_readme_section_between_the_markers_is_replaced(tmp_path, monkeypatch):
    monkeypatch.setattr(report, "ROOT", tmp_path)
    monkeypatch.setattr(report, "OUT", tmp_path / "out")
    (tmp_path / "docs").mkdir()
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "product.json").write_text(json.dumps({"rounds": [round_("a", 1, tally(0.5, 9))]}))
    (tmp_path / "README.md").write_text(f"intro\n{report.BEGIN}\nold figures\n{report.END}\nrest\n")
    report.write("new figures")
    text = (tmp_path / "README.md").read_text()
    assert "old figures" not in text and text.startswith("intro\n") and text.endswith("rest\n")
    assert "new figures" in text and "new figures" in (tmp_path / "docs" / "flywheel.md").read_text()
    (tmp_path / "README.md").write_text("no markers\n")
    with pytest.raises(SystemExit, match="no <!-- flywheel-report:begin -->"):
        report.write("new figures")
