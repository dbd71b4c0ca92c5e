"""The import rule of docs/architecture.md: arrows point one way only.

The packages' contracts live in pyproject.toml (`[tool.importlinter]`) and are checked by
import-linter; `pages/` is no package, so its rule is checked here over the page scripts'
imports: pages lay out, they never reach storage, records, keys, masking or SQL themselves.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted((ROOT / "pages").glob("*.py"))

# What a page may not import: it gets figures from dashboard.serving, files from
# dashboard.ui/report, and leaves masking to dashboard.access.privacy inside them.
FORBIDDEN_IN_PAGES = (
    "duckdb",
    "etl",
    "dashboard.core.storage",
    "dashboard.core.records",
    "dashboard.core.keys",
    "dashboard.access.scope",
    "dashboard.access.privacy",
)


def test_package_contracts_hold():
    lint_imports = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run(
        [str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


@pytest.mark.parametrize("page", PAGES, ids=[p.stem for p in PAGES])
def test_pages_only_lay_out(page):
    imported = _imports(page)
    reached = sorted(
        name for name in imported for bad in FORBIDDEN_IN_PAGES
        if name == bad or name.startswith(bad + ".")
    )  # fmt: skip
    assert not reached, f"{page.name} imports {reached}"
    assert "SELECT " not in page.read_text(encoding="utf-8").upper(), "SQL belongs in queries"
