"""Data exchange: survey and evaluation exports (XLSX, CSV, GeoJSON) and imports, in the columns
of `columns.py` (plain Python, derived from survey_fields)."""
