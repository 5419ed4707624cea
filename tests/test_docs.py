"""Every ```python block in README.md and docs/*.md runs, top to bottom, one namespace per file."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DOCS = sorted([REPO / "README.md", *(REPO / "docs").glob("*.md")])
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def python_blocks(path: Path) -> list[str]:
    return BLOCK.findall(path.read_text(encoding="utf-8"))


def test_the_docs_have_examples() -> None:
    assert sum(len(python_blocks(p)) for p in DOCS) >= 2


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.name)
def test_doc_examples_run(path: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    blocks = python_blocks(path)
    if not blocks:
        pytest.skip(f"{path.name} has no python examples")
    monkeypatch.chdir(REPO)
    namespace: dict[str, object] = {"__name__": f"doc_{path.stem}", "TMP": tmp_path}
    for number, block in enumerate(blocks, 1):
        code = compile(block, f"{path.name} [example {number}]", "exec", dont_inherit=True)
        exec(code, namespace)
