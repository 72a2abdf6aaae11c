"""The scan car's enforcement decision per vehicle pass, and the loop that feeds it.

Pure core (``model``, ``ports``, ``rules``, ``evidence``, ``service``): it talks to ports only
(``RightsSource``, ``ChalkStore``, ``RepeatGuard``, ``SuspectSink``, ``PositionLookup``); the
SQLite chalk store lives in ``scancar.chalk``, the outbox in ``scancar.outbox``, and the command
modules in ``scancar.cli`` wire them.
"""

from scancar.pipeline.model import (
    Counters,
    Outcome,
    OutcomeKind,
    PipelineSettings,
)
from scancar.pipeline.rules import decide
from scancar.pipeline.service import EnforcementPipeline

__all__ = [
    "Counters",
    "EnforcementPipeline",
    "Outcome",
    "OutcomeKind",
    "PipelineSettings",
    "decide",
]
