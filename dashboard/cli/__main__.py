"""`python -m dashboard.cli`."""

from dashboard.cli import main

main()
