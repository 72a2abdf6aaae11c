"""The ``scancar`` console script (``scancar_cli.main:main``): one thin root over the car's
and the backend's commands. It sits outside both so neither imports the other."""
