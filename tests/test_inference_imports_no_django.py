"""inference/ stays usable outside Django, and its light modules stay light for the web process."""

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def loaded_after(code: str, modules: list[str]) -> list[str]:
    """Which of `modules` a fresh interpreter has loaded after running `code`."""
    script = f"import sys\n{code}\nprint(','.join(m for m in {modules!r} if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return [m for m in result.stdout.strip().split(",") if m]


def test_every_inference_module_imports_without_django() -> None:
    code = (
        "import importlib, pkgutil, inference\n"
        "names = [m.name for m in pkgutil.walk_packages(inference.__path__, 'inference.')]\n"
        "assert {'inference.editor', 'inference.revision', 'inference.tiny'} <= set(names), names\n"
        "for name in names: importlib.import_module(name)"
    )
    assert loaded_after(code, ["django"]) == []


def test_light_modules_do_not_import_torch() -> None:
    code = "import inference.diffing, inference.instructions, inference.sentences"
    assert loaded_after(code, ["torch", "transformers"]) == []


def test_generation_modules_defer_torch_until_used() -> None:
    code = "import inference.devices, inference.editor, inference.revision, inference.tiny"
    assert loaded_after(code, ["torch", "transformers", "tokenizers", "peft"]) == []
