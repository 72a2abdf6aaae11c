"""``python -m scancar_cli``: the ``scancar`` command without installing the package."""

from scancar_cli.main import main

main()
