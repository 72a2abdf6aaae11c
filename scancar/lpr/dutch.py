"""Correcting an OCR read towards a valid Dutch plate (the plate rules themselves, sidecodes and
special series, are the domain's: ``permits.dutch``)."""

from __future__ import annotations

from permits.dutch import DIGITS, DUTCH_LETTERS, SIDECODES, DutchPlate, parse_dutch_plate

# Look-alike corrections towards the sidecode's expected character class. Only characters of
# one look-alike group (see ``permits.plates.LOOKALIKE_GROUPS``) are exchanged, and only towards
# the single member that a Dutch plate can carry in that position. "I" is never issued: in a
# letter group it is a J whose hook the OCR missed. "1" and "L" are not exchanged: a "1" in a
# letter group could be J or L, and L is a real letter.
_TO_DIGIT = dict(zip("ODQIZSGB", "00012568", strict=True))
_TO_LETTER = dict(zip("0OQI2568", "DDDJZSGB", strict=True))


def _coerce(text: str, shape: str) -> str | None:
    out: list[str] = []
    for ch, kind in zip(text, shape, strict=True):
        if kind == "9":
            if ch in DIGITS:
                out.append(ch)
            elif ch in _TO_DIGIT:
                out.append(_TO_DIGIT[ch])
            else:
                return None
        elif ch in DUTCH_LETTERS:
            out.append(ch)
        elif ch in _TO_LETTER:
            out.append(_TO_LETTER[ch])
        else:
            return None
    return "".join(out)


def correct_dutch_plate(text: str) -> DutchPlate | None:
    """The one valid Dutch plate that look-alike corrections turn ``text`` into, else ``None``.

    A read that is already valid is returned unchanged. Otherwise every sidecode is tried,
    exchanging look-alikes towards its letter/digit groups; among the valid results the ones
    needing the fewest exchanges count. When that is not exactly one plate (two sidecodes
    explain the read equally well), the read is ambiguous and ``None`` is returned: the caller
    marks it invalid rather than guessing.
    """
    parsed = parse_dutch_plate(text)
    if parsed is not None:
        return parsed
    if "I" in text:  # I is issued in no series: a special-series read with a J misread as I
        special = parse_dutch_plate(text.replace("I", "J"))
        if special is not None and special.sidecode is None:
            return special
    if len(text) != 6:
        return None
    found: dict[str, tuple[int, DutchPlate]] = {}
    for sc in SIDECODES:
        fixed = _coerce(text, sc.shape)
        if fixed is None:
            continue
        candidate = parse_dutch_plate(fixed)
        if candidate is not None and candidate.sidecode == sc.number:
            changes = sum(1 for a, b in zip(text, fixed, strict=True) if a != b)
            found[candidate.plate] = (changes, candidate)
    if not found:
        return None
    fewest = min(changes for changes, _ in found.values())
    best = [plate for changes, plate in found.values() if changes == fewest]
    return best[0] if len(best) == 1 else None
