"""The ``eintegr`` command line.

Exit codes are stable across every sub-command: 0 success (all valid), 1 something is
invalid, 2 usage error, 3 unreadable input or internal error. No command ends in a bare
traceback: unexpected failures are reported in one line and exit with 3.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

import click

from eintegr import __version__
from eintegr.cli import conformance as conformance_cli
from eintegr.cli import demo as demo_cli
from eintegr.cli import edelivery as edelivery_cli
from eintegr.cli import inspect as inspect_cli
from eintegr.cli import registry as registry_cli
from eintegr.cli import regix as regix_cli
from eintegr.cli import serve as serve_cli
from eintegr.cli import signing
from eintegr.cli.validate import EXIT_UNREADABLE, EXIT_USAGE, validate_command

__all__ = ["cli", "main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="eintegr")
def cli() -> None:
    """eintegr — Bulgarian e-government interoperability (СЕОС, RegiX, РИО, ССЕВ)."""


cli.add_command(validate_command)
signing.register(cli)
serve_cli.register(cli)
registry_cli.register(cli)
edelivery_cli.register(cli)
regix_cli.register(cli)
demo_cli.register(cli)
inspect_cli.register(cli)
conformance_cli.register(cli)


def main(argv: Sequence[str] | None = None) -> None:
    """Run the command line (the ``eintegr`` console script)."""
    try:
        cli.main(
            args=list(argv) if argv is not None else None,
            prog_name="eintegr",
            standalone_mode=False,
        )
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.UsageError as exc:
        exc.show()
        sys.exit(EXIT_USAGE)
    except click.ClickException as exc:
        exc.show()
        sys.exit(EXIT_UNREADABLE)
    except click.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(EXIT_UNREADABLE)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:  # never a bare traceback
        click.echo(f"eintegr: internal error: {type(exc).__name__}: {exc}", err=True)
        sys.exit(EXIT_UNREADABLE)
    sys.exit(0)
