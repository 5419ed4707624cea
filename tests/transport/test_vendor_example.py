"""The adapter of docs/vendors.md passes the contract suite it documents.

The page's python blocks are executed into this module, so pytest collects the
``TestQueueTransport`` class they define and runs the whole contract against
``QueueTransport``.
"""

from __future__ import annotations

import re
from pathlib import Path

PAGE = Path(__file__).resolve().parents[2] / "docs" / "vendors.md"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)

for _number, _block in enumerate(BLOCK.findall(PAGE.read_text(encoding="utf-8")), 1):
    exec(compile(_block, f"{PAGE.name} [example {_number}]", "exec"), globals())

assert "TestQueueTransport" in globals()
