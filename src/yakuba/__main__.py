"""Run the yakuba CLI with `python -m yakuba`."""

from yakuba.cli import main

main()
