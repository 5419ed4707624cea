"""``python -m eintegr`` runs the command line."""

from eintegr.cli import main

main()
