"""Positioning for the scan car: NMEA parsing, position sources, a track to interpolate on,
and the camera geometry that moves the car's position to the parked car's position."""
