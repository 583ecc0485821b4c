"""The layers of docs/architecture.md, as import-linter checks them (pyproject.toml)."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def _lint_imports(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=root,
        env={"PYTHONPATH": str(root)},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_code_keeps_its_layers():
    result = _lint_imports(ROOT)
    assert result.returncode == 0, result.stdout
    assert "webapp's layers: core <- accounts <- registry <- domain apps <- demo KEPT" in result.stdout
    assert "inference imports neither webapp nor Django" in result.stdout and "BROKEN" not in result.stdout


def test_an_import_across_the_layers_breaks_the_contract(tmp_path: Path):
    for name in ("webapp", "inference"):
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("weights", "__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    # What the registry move undid: training reading writing's rows, the registry reading training's.
    (tmp_path / "webapp" / "training" / "leak.py").write_text("from webapp.writing.models import Decision\n")
    (tmp_path / "webapp" / "registry" / "leak.py").write_text("def f():\n    from webapp.training import models\n")
    (tmp_path / "webapp" / "preferences" / "leak.py").write_text("from webapp.coding.models import CodeCandidate\n")
    (tmp_path / "inference" / "leak.py").write_text("import django\n")
    result = _lint_imports(tmp_path)
    assert result.returncode != 0
    assert "webapp.training is not allowed to import webapp.writing" in result.stdout
    assert "webapp.registry is not allowed to import webapp.training" in result.stdout
    assert "webapp.preferences is not allowed to import webapp.coding" in result.stdout
    assert "inference.leak -> django" in result.stdout
