"""The packages depend one way: app → web, evaluation → ingest → assistant → vectorstore.

Read from the source (ast), so a lazy import inside a function counts as much as a top one.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from assistant import REPO_ROOT

PACKAGES = ("vectorstore", "assistant", "ingest", "web", "evaluation")
#: What each package may import of the project (besides itself).
ALLOWED = {
    "vectorstore": set(),
    "assistant": {"vectorstore"},
    "ingest": {"assistant", "vectorstore"},
    "web": {"ingest", "assistant", "vectorstore"},
    "evaluation": {"ingest", "assistant", "vectorstore"},
}


def project_imports(path: Path) -> list[tuple[int, str]]:
    """(line, dotted module) of every import of a project package in one file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        found += [(node.lineno, n) for n in names if n.split(".")[0] in PACKAGES]
    return found


@pytest.mark.parametrize("package", PACKAGES)
def test_packages_import_only_downward(package: str) -> None:
    wrong = [
        f"{path.relative_to(REPO_ROOT)}:{line} imports {module}"
        for path in sorted((REPO_ROOT / package).glob("*.py"))
        for line, module in project_imports(path)
        if module.split(".")[0] not in ALLOWED[package] | {package}
    ]
    assert not wrong, wrong


@pytest.mark.parametrize("front_end", ["web", "evaluation", "app.py"])
def test_front_ends_use_only_public_surfaces(front_end: str) -> None:
    """Front ends import ``assistant``, ``ingest`` and ``vectorstore`` through their
    ``__init__`` (the names each package makes public), never their internals."""
    target = REPO_ROOT / front_end
    files = [target] if target.is_file() else sorted(target.glob("*.py"))
    own = front_end.removesuffix(".py")
    wrong = [
        f"{path.relative_to(REPO_ROOT)}:{line} imports {module}"
        for path in files
        for line, module in project_imports(path)
        if "." in module and module.split(".")[0] != own
    ]
    assert not wrong, wrong


def test_the_check_sees_a_wrong_import(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    from web.server import create_app\n", encoding="utf-8")
    assert project_imports(bad) == [(2, "web.server")]
