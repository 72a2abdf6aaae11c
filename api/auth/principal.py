"""Who is calling: a user with a role, or a scan-car device."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Literal


class Role(enum.StrEnum):
    ADMIN = "admin"
    BACKOFFICE = "backoffice"
    BOA = "boa"  # buitengewoon opsporingsambtenaar: the enforcement officer
    PROVIDER = "provider"  # a parking-app provider reporting paid sessions
    RESIDENT = "resident"  # a resident or business using the portal (/mijn/): own data only
    COORDINATOR = "coordinator"  # meldkamer: the control-room map, assigns hits to BOAs
    DEVICE = "device"  # a scan car


USER_ROLES = (
    Role.ADMIN,
    Role.BACKOFFICE,
    Role.BOA,
    Role.COORDINATOR,
    Role.PROVIDER,
    Role.RESIDENT,
)


@dataclass(frozen=True, slots=True)
class Principal:
    kind: Literal["user", "device"]
    id: int
    name: str
    role: Role

    @property
    def label(self) -> str:
        return f"{self.kind}:{self.name}"
