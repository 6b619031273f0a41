"""The administrative hierarchy: county-level units, townships, villages and their farmhouses."""
