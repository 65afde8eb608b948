"""`python -m megacity` runs the command line."""

from megacity.cli import main

main()
