"""SVG charts from plain data, shared by the dashboards and the PDF reports.

Import the charts from their modules (``village_survey.charts.bars``, ``.style``); this package
file imports nothing, so each module loads on its own.
"""
