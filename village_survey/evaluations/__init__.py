"""Village, township, county and city evaluations: previews computed from approved surveys, and
finalized evaluations whose inputs and results are frozen."""
