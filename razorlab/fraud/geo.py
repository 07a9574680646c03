"""Where a payment came from: the city of its IP address, and how far apart cities are.

The impossible-travel signal is "distance since the card's previous payment divided by
the time between them". Distances come from one precomputed integer table (great-circle
kilometres between city centres) so the streaming path and the batch path look up the
same integers and compute the same speed to the last bit.
"""

from __future__ import annotations

import numpy as np

__all__ = ["CITIES", "CITY_DISTANCE_KM", "EARTH_RADIUS_KM"]

EARTH_RADIUS_KM = 6371.0

#: (name, latitude, longitude) of the cities our synthetic customers live in.
CITIES: tuple[tuple[str, float, float], ...] = (
    ("Mumbai", 19.0760, 72.8777),
    ("Delhi", 28.7041, 77.1025),
    ("Bengaluru", 12.9716, 77.5946),
    ("Hyderabad", 17.3850, 78.4867),
    ("Chennai", 13.0827, 80.2707),
    ("Kolkata", 22.5726, 88.3639),
    ("Pune", 18.5204, 73.8567),
    ("Ahmedabad", 23.0225, 72.5714),
    ("Jaipur", 26.9124, 75.7873),
    ("Lucknow", 26.8467, 80.9462),
    ("Kochi", 9.9312, 76.2673),
    ("Guwahati", 26.1445, 91.7362),
)


def _distance_table() -> tuple[tuple[int, ...], ...]:
    lat = np.radians([c[1] for c in CITIES])
    lon = np.radians([c[2] for c in CITIES])
    dlat = lat[:, None] - lat[None, :]
    dlon = lon[:, None] - lon[None, :]
    a = np.sin(dlat / 2) ** 2 + np.cos(lat[:, None]) * np.cos(lat[None, :]) * np.sin(dlon / 2) ** 2
    km = 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(a))
    return tuple(tuple(int(round(v)) for v in row) for row in km)


#: CITY_DISTANCE_KM[a][b]: whole kilometres between city a and city b (haversine).
CITY_DISTANCE_KM = _distance_table()
