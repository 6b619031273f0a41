"""Where things are: Jiujiang's county boundaries shipped with the app (WGS-84), and GCJ-02 ↔ WGS-84.

Pure Python (no Flask, no database). See README.md in this folder for the data's source and licence.
"""

from village_survey.geo.boundaries import (
    BOUNDARIES_FILE, CITY_CODE, DEFAULT_TOLERANCE_M, Boundary, boundaries, boundary, counties, county_of,
    load_boundaries, outside_county,
)
from village_survey.geo.gcj02 import gcj02_to_wgs84, wgs84_to_gcj02

__all__ = [
    "BOUNDARIES_FILE", "CITY_CODE", "DEFAULT_TOLERANCE_M", "Boundary", "boundaries", "boundary", "counties",
    "county_of", "load_boundaries", "outside_county", "gcj02_to_wgs84", "wgs84_to_gcj02",
]
