"""The dashboard: survey progress by child area, the headline indicators and the charts of a
user's scope for a year.

    progress.py  live counts of surveys by child area and status (two GROUP BY queries)
    figures.py   pure: the stored figures of an area and its children as chart inputs
    drawing.py   pure: the charts drawn (and kept in a bounded cache) for a locale
    texts.py     the translated words of the charts and indicators
    services.py  the dashboard of a user and a year, from all of the above
"""
