"""Build NMEA sentences with correct checksums for the GPS tests."""

from __future__ import annotations

from functools import reduce


def sentence(body: str) -> str:
    """``$<body>*hh`` with the right checksum."""
    value = reduce(lambda acc, ch: acc ^ ord(ch), body, 0)
    return f"${body}*{value:02X}"


def rmc(
    hhmmss: str,
    ddmmyy: str = "101015",
    *,
    lat: str = "5200.0000",
    ns: str = "N",
    lon: str = "00500.0000",
    ew: str = "E",
    status: str = "A",
    knots: str = "0.0",
    course: str = "",
    talker: str = "GP",
    mode: str = "A",
) -> str:
    return sentence(
        f"{talker}RMC,{hhmmss},{status},{lat},{ns},{lon},{ew},{knots},{course},{ddmmyy},,,{mode}"
    )


def gga(
    hhmmss: str,
    *,
    lat: str = "5200.0000",
    ns: str = "N",
    lon: str = "00500.0000",
    ew: str = "E",
    quality: str = "1",
    sats: str = "08",
    hdop: str = "0.9",
    talker: str = "GP",
) -> str:
    return sentence(
        f"{talker}GGA,{hhmmss},{lat},{ns},{lon},{ew},{quality},{sats},{hdop},1.0,M,47.0,M,,"
    )


def zda(hhmmss: str, day: int, month: int, year: int, talker: str = "GP") -> str:
    return sentence(f"{talker}ZDA,{hhmmss},{day:02d},{month:02d},{year:04d},00,00")


def vtg(course: str, kmh: str, talker: str = "GP") -> str:
    return sentence(f"{talker}VTG,{course},T,,M,,N,{kmh},K,A")


def gll(hhmmss: str, *, lat: str = "5200.0000", lon: str = "00500.0000", status: str = "A") -> str:
    return sentence(f"GPGLL,{lat},N,{lon},E,{hhmmss},{status},A")


def lat_ddmm(lat: float) -> str:
    deg = int(lat)
    return f"{deg:02d}{(lat - deg) * 60:07.4f}"


def lon_dddmm(lon: float) -> str:
    deg = int(lon)
    return f"{deg:03d}{(lon - deg) * 60:07.4f}"
