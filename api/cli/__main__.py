"""`python -m api.cli …` runs the same command line as the `fieldloop` script."""

from api.cli import main

main(prog_name="fieldloop")
