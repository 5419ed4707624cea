"""The ``eintegr`` command line.

Exit codes are stable across every sub-command: 0 success (all valid), 1 something is
invalid, 2 usage error, 3 unreadable input or internal error.
"""

from __future__ import annotations

import click

from eintegr import __version__

__all__ = ["main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="eintegr")
def main() -> None:
    """eintegr — Bulgarian e-government interoperability (СЕОС, RegiX, РИО, ССЕВ)."""
