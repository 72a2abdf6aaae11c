"""``python -m scancar``: the ``scancar`` command (scancar.cli.root) without the console script."""

from scancar.cli.root import main

main()
