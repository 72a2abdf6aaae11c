"""The car process as a whole: ``build_car`` (the composition root of ``run``, ``replay`` and
``demo``), ``drive`` (the loop) and what keeps an unattended car honest: the data-folder lock,
supervised cameras, the GPS and clock watch, the in-memory plate key, the saved zone set, the
health snapshot (heartbeat, ``scancar status``, metrics) and the systemd notifications."""
