"""The labels of the survey's answers, codes and statuses as msgids (English), in plain Python.

One table for every place that shows them: `surveys/labels.py` translates them lazily for pages,
`exchange/columns.py` for the headers and cells of exchange files. `N_` only marks a msgid for
extraction (pybabel's default keywords include it).
"""

from __future__ import annotations

from typing import Mapping


def N_(msgid: str) -> str:
    """Marks a msgid for extraction; translated where it is shown."""
    return msgid


FIELD_LABELS: Mapping[str, str] = {
    "house_number": N_("House number"),
    "head_name": N_("Name of the household head"),
    "phone": N_("Phone"),
    "residents": N_("Permanent residents"),
    "latitude": N_("Latitude"),
    "longitude": N_("Longitude"),
    "gps_accuracy_m": N_("GPS accuracy"),
    "survey_date": N_("Survey date"),
    "year_built": N_("Year built"),
    "storeys": N_("Storeys"),
    "floor_area_m2": N_("Floor area"),
    "structure": N_("Structure"),
    "safety_appraisal": N_("Safety appraisal"),
    "visible_danger": N_("Visible structural danger"),
    "roof_insulation": N_("Roof insulation"),
    "wall_insulation": N_("External wall insulation"),
    "efficient_windows": N_("Energy-saving windows (double glazing or thermal-break frames)"),
    "shading": N_("External shading or deep eaves"),
    "energy_design": N_("Designed to the rural energy-saving standard GB/T 50824"),
    "green_materials": N_("Green or local materials used"),
    "retrofit_year": N_("Year of the last energy retrofit"),
    "electricity_kwh": N_("Electricity from the bills"),
    "electricity_bill_yuan_month": N_("Or the average monthly electricity bill"),
    "lpg_kg": N_("Bottled LPG"),
    "piped_gas_m3": N_("Piped gas"),
    "coal_kg": N_("Coal"),
    "firewood_kg": N_("Firewood"),
    "straw_kg": N_("Straw"),
    "biogas_m3": N_("Biogas"),
    "biogas_digester": N_("Biogas digester"),
    "primary_stove": N_("Primary stove"),
    "secondary_stove": N_("Secondary stove"),
    "stove_chimney": N_("The wood or coal stove has a chimney"),
    "heating": N_("Space heating"),
    "hot_water": N_("Hot water"),
    "ac_label_grade": N_("Air conditioner energy label grade"),
    "lamps_led": N_("LED lamps"),
    "lamps_cfl": N_("Fluorescent or energy-saving (CFL) lamps"),
    "lamps_incandescent": N_("Incandescent lamps"),
    "grid_connected": N_("Connected to the grid"),
    "supply_hours": N_("Hours of electricity a day"),
    "evening_hours": N_("Hours of electricity in the evening"),
    "outages_per_week": N_("Outages a week"),
    "outage_hours_per_week": N_("Total outage hours a week"),
    "voltage_damage": N_("Appliances damaged by voltage"),
    "electric_vehicle": N_("Electric car"),
    "electric_bike": N_("Electric bike or scooter"),
    "electric_farm_machinery": N_("Electric farm machinery"),
    "smart_meter": N_("Smart meter"),
    "pv_installed": N_("Solar PV installed"),
    "pv_kwp": N_("PV capacity"),
    "pv_year": N_("Year the PV was installed"),
    "pv_location": N_("Where the PV is"),
    "pv_mode": N_("How the PV power is used"),
    "pv_generation_kwh": N_("PV generation (empty: estimated)"),
    "battery_kwh": N_("Battery storage"),
    "notes": N_("Notes"),
}

_STOVES = {
    "traditional_wood": N_("Traditional firewood stove"),
    "improved_wood": N_("Improved firewood stove with chimney"),
    "coal": N_("Coal stove"),
    "lpg": N_("LPG"),
    "piped_gas": N_("Piped gas"),
    "biogas": N_("Biogas"),
    "electric": N_("Electric or induction"),
    "solar": N_("Solar cooker"),
    "none": N_("None"),
}

CODE_LABELS: Mapping[str, Mapping[str, str]] = {
    "structure": {
        "brick_concrete": N_("Brick and concrete"), "frame": N_("Concrete frame"),
        "prefab_steel": N_("Prefabricated steel"), "light_steel": N_("Light steel"),
        "timber": N_("Timber"), "earth": N_("Earth or adobe"), "stone": N_("Stone"), "other": N_("Other"),
    },
    "safety_appraisal": {"A": "A", "B": "B", "C": "C", "D": "D", "none": N_("Not appraised")},
    "energy_design": {"yes": N_("Yes"), "no": N_("No"), "unknown": N_("Unknown")},
    "biogas_digester": {"none": N_("None"), "working": N_("Working"), "broken": N_("Broken")},
    "primary_stove": _STOVES,
    "secondary_stove": _STOVES,
    "heating": {
        "none": N_("None"), "heat_pump_ac": N_("Heat-pump air conditioner"),
        "air_source_heat_pump": N_("Air-source heat pump"), "electric_heater": N_("Electric heater"),
        "biomass": N_("Biomass stove or boiler"), "coal_brazier": N_("Coal or charcoal brazier"),
    },
    "hot_water": {
        "none": N_("None"), "solar_thermal": N_("Solar water heater"), "heat_pump": N_("Air-source heat pump"),
        "electric": N_("Electric"), "gas": N_("Gas"), "firewood": N_("Firewood"),
    },
    "ac_label_grade": {
        "1": N_("Grade 1"), "2": N_("Grade 2"), "3": N_("Grade 3"), "4": N_("Grade 4"), "5": N_("Grade 5"),
        "no_ac": N_("No air conditioner"), "unknown": N_("Unknown"),
    },
    "pv_location": {"roof": N_("Roof"), "courtyard": N_("Courtyard"), "farm_building": N_("Farm building")},
    "pv_mode": {
        "self_use_surplus": N_("Self-use, surplus to the grid"), "all_to_grid": N_("All to the grid"),
        "off_grid": N_("Off-grid"),
    },
}

STATUS_LABELS: Mapping[str, str] = {
    "draft": N_("Draft"), "submitted": N_("Submitted"), "approved": N_("Approved"), "returned": N_("Returned"),
}
