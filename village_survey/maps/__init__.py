"""Maps without a tile server: a county's approved farmhouses (points by star level, stove or PV;
villages at their centroids; points outside the county listed apart) and the city's villages
(one circle each), drawn as inline SVG from the boundaries shipped in ``village_survey.geo``."""
