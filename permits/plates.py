"""Licence-plate text: normalisation and OCR look-alikes.

Plates are normalised once, at the edge (uppercase, no dashes, spaces or dots) and are stored
and compared only in that form. Everything else outside ``A-Z0-9`` is invalid.
"""

from __future__ import annotations

import re

from permits.errors import InvalidPlateError

MAX_PLATE_LENGTH = 10
_STRIP = str.maketrans("", "", "-. \t")
_VALID = re.compile(r"^[A-Z0-9]{1,10}$")

# Characters that OCR engines (and people) confuse on licence plates. Each group is symmetric:
# any member can be read as any other member of its group.
LOOKALIKE_GROUPS: tuple[frozenset[str], ...] = (
    frozenset("0ODQ"),
    frozenset("1IL"),
    frozenset("2Z"),
    frozenset("5S"),
    frozenset("6G"),
    frozenset("8B"),
)
_LOOKALIKES: dict[str, tuple[str, ...]] = {
    ch: tuple(sorted(group - {ch})) for group in LOOKALIKE_GROUPS for ch in group
}


def normalise_plate(raw: str) -> str:
    """Return the stored form of a plate (``"gz-123-t"`` -> ``"GZ123T"``).

    Raises ``InvalidPlateError`` naming the bad value when anything but letters, digits,
    dashes, dots and spaces is present, or when the result is empty or too long.
    """
    if not isinstance(raw, str):
        raise InvalidPlateError(repr(raw), "a plate must be text")
    plate = raw.upper().translate(_STRIP)
    if not plate:
        raise InvalidPlateError(raw, "the plate is empty")
    if len(plate) > MAX_PLATE_LENGTH:
        raise InvalidPlateError(raw, f"at most {MAX_PLATE_LENGTH} characters are allowed")
    if not _VALID.fullmatch(plate):
        bad = sorted({ch for ch in plate if not ("A" <= ch <= "Z" or "0" <= ch <= "9")})
        raise InvalidPlateError(
            raw,
            f"characters {''.join(bad)!r} are not allowed; only A-Z and 0-9 (dashes, dots "
            "and spaces are removed)",
        )
    return plate


def is_normalised_plate(plate: str) -> bool:
    """True when ``plate`` is already in stored form (A-Z0-9, 1..10 characters)."""
    return bool(_VALID.fullmatch(plate))


def lookalike_variants(plate: str) -> frozenset[str]:
    """Every plate that differs from ``plate`` by one OCR look-alike character.

    ``plate`` itself is not included. The plate must be normalised.
    """
    variants: set[str] = set()
    for i, ch in enumerate(plate):
        for alt in _LOOKALIKES.get(ch, ()):
            variants.add(plate[:i] + alt + plate[i + 1 :])
    return frozenset(variants)


def is_lookalike(a: str, b: str) -> bool:
    """True when two normalised plates differ in exactly one position by a look-alike pair."""
    if len(a) != len(b) or a == b:
        return False
    diffs = [(x, y) for x, y in zip(a, b, strict=True) if x != y]
    return len(diffs) == 1 and diffs[0][1] in _LOOKALIKES.get(diffs[0][0], ())


_GROUPS = re.compile(r"[A-Z]+|[0-9]+")


def format_plate(plate: str) -> str:
    """A normalised Dutch plate with its sidecode dashes, for people to read
    (``"GZ123T"`` -> ``"GZ-123-T"``, ``"XKGV52"`` -> ``"XK-GV-52"``).

    Letters and digits form the groups; a plate of six with one group of four (sidecodes 4-6)
    splits that group in two. Anything else (foreign plates) is returned as it is."""
    groups = _GROUPS.findall(plate)
    if "".join(groups) != plate or len(plate) != 6:
        return plate
    if len(groups) == 2 and 4 in (len(groups[0]), len(groups[1])):
        long_first = len(groups[0]) == 4
        g = groups[0] if long_first else groups[1]
        halves = [g[:2], g[2:]]
        groups = [*halves, groups[1]] if long_first else [groups[0], *halves]
    return "-".join(groups) if len(groups) == 3 else plate


def differs_only_in_lookalikes(read: str, corrected: str) -> bool:
    """True when two normalised plates have the same length and every position where they
    differ holds an OCR look-alike pair (``GZ123T`` / ``GZ1Z3T``); False otherwise, also
    for equal plates."""
    if len(read) != len(corrected) or read == corrected:
        return False
    return all(x == y or y in _LOOKALIKES.get(x, ()) for x, y in zip(read, corrected, strict=True))
