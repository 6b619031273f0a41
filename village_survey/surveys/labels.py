"""Translated labels of the survey's steps, answer keys, units and codes (the keys stay as data)."""

from flask_babel import lazy_gettext as _l

STEP_LABELS = {
    "household": _l("Household"),
    "building": _l("Building"),
    "energy": _l("Energy use, last 12 months"),
    "cooking": _l("Cooking"),
    "heating": _l("Heating and hot water"),
    "lighting": _l("Lighting"),
    "supply": _l("Electricity supply"),
    "pv": _l("Solar PV"),
    "notes": _l("Photos and notes"),
}

FIELD_LABELS = {
    "house_number": _l("House number"),
    "head_name": _l("Name of the household head"),
    "phone": _l("Phone"),
    "residents": _l("Permanent residents"),
    "latitude": _l("Latitude"),
    "longitude": _l("Longitude"),
    "gps_accuracy_m": _l("GPS accuracy"),
    "survey_date": _l("Survey date"),
    "year_built": _l("Year built"),
    "storeys": _l("Storeys"),
    "floor_area_m2": _l("Floor area"),
    "structure": _l("Structure"),
    "safety_appraisal": _l("Safety appraisal"),
    "visible_danger": _l("Visible structural danger"),
    "roof_insulation": _l("Roof insulation"),
    "wall_insulation": _l("External wall insulation"),
    "efficient_windows": _l("Energy-saving windows (double glazing or thermal-break frames)"),
    "shading": _l("External shading or deep eaves"),
    "energy_design": _l("Designed to the rural energy-saving standard GB/T 50824"),
    "green_materials": _l("Green or local materials used"),
    "retrofit_year": _l("Year of the last energy retrofit"),
    "electricity_kwh": _l("Electricity from the bills"),
    "electricity_bill_yuan_month": _l("Or the average monthly electricity bill"),
    "lpg_kg": _l("Bottled LPG"),  # the size of a bottle is said by the unit choice (survey_fields)
    "piped_gas_m3": _l("Piped gas"),
    "coal_kg": _l("Coal"),
    "firewood_kg": _l("Firewood"),
    "straw_kg": _l("Straw"),
    "biogas_m3": _l("Biogas"),
    "biogas_digester": _l("Biogas digester"),
    "primary_stove": _l("Primary stove"),
    "secondary_stove": _l("Secondary stove"),
    "stove_chimney": _l("The wood or coal stove has a chimney"),
    "heating": _l("Space heating"),
    "hot_water": _l("Hot water"),
    "ac_label_grade": _l("Air conditioner energy label grade"),
    "lamps_led": _l("LED lamps"),
    "lamps_cfl": _l("Fluorescent or energy-saving (CFL) lamps"),
    "lamps_incandescent": _l("Incandescent lamps"),
    "grid_connected": _l("Connected to the grid"),
    "supply_hours": _l("Hours of electricity a day"),
    "evening_hours": _l("Hours of electricity in the evening"),
    "outages_per_week": _l("Outages a week"),
    "outage_hours_per_week": _l("Total outage hours a week"),
    "voltage_damage": _l("Appliances damaged by voltage"),
    "electric_vehicle": _l("Electric car"),
    "electric_bike": _l("Electric bike or scooter"),
    "electric_farm_machinery": _l("Electric farm machinery"),
    "smart_meter": _l("Smart meter"),
    "pv_installed": _l("Solar PV installed"),
    "pv_kwp": _l("PV capacity"),
    "pv_year": _l("Year the PV was installed"),
    "pv_location": _l("Where the PV is"),
    "pv_mode": _l("How the PV power is used"),
    "pv_generation_kwh": _l("PV generation (empty: estimated)"),
    "battery_kwh": _l("Battery storage"),
    "notes": _l("Notes"),
}

UNIT_LABELS = {
    "persons": _l("persons"),
    "degrees": _l("degrees"),
    "m": _l("m"),
    "storeys": _l("storeys"),
    "m²": _l("m²"),
    "kWh / 12 months": _l("kWh / 12 months"),
    "yuan / month": _l("yuan / month"),
    "kg / 12 months": _l("kg / 12 months"),
    "m³ / 12 months": _l("m³ / 12 months"),
    "lamps": _l("lamps"),
    "hours / day": _l("hours / day"),
    "hours (18:00–24:00)": _l("hours (18:00–24:00)"),
    "outages / week": _l("outages / week"),
    "hours / week": _l("hours / week"),
    "kWp": _l("kWp"),
    "kWh": _l("kWh"),
}

_STOVES = {
    "traditional_wood": _l("Traditional firewood stove"),
    "improved_wood": _l("Improved firewood stove with chimney"),
    "coal": _l("Coal stove"),
    "lpg": _l("LPG"),
    "piped_gas": _l("Piped gas"),
    "biogas": _l("Biogas"),
    "electric": _l("Electric or induction"),
    "solar": _l("Solar cooker"),
    "none": _l("None"),
}

CODE_LABELS = {
    "structure": {
        "brick_concrete": _l("Brick and concrete"), "frame": _l("Concrete frame"),
        "prefab_steel": _l("Prefabricated steel"), "light_steel": _l("Light steel"),
        "timber": _l("Timber"), "earth": _l("Earth or adobe"), "stone": _l("Stone"), "other": _l("Other"),
    },
    "safety_appraisal": {"A": "A", "B": "B", "C": "C", "D": "D", "none": _l("Not appraised")},
    "energy_design": {"yes": _l("Yes"), "no": _l("No"), "unknown": _l("Unknown")},
    "biogas_digester": {"none": _l("None"), "working": _l("Working"), "broken": _l("Broken")},
    "primary_stove": _STOVES,
    "secondary_stove": _STOVES,
    "heating": {
        "none": _l("None"), "heat_pump_ac": _l("Heat-pump air conditioner"),
        "air_source_heat_pump": _l("Air-source heat pump"), "electric_heater": _l("Electric heater"),
        "biomass": _l("Biomass stove or boiler"), "coal_brazier": _l("Coal or charcoal brazier"),
    },
    "hot_water": {
        "none": _l("None"), "solar_thermal": _l("Solar water heater"), "heat_pump": _l("Air-source heat pump"),
        "electric": _l("Electric"), "gas": _l("Gas"), "firewood": _l("Firewood"),
    },
    "ac_label_grade": {
        "1": _l("Grade 1"), "2": _l("Grade 2"), "3": _l("Grade 3"), "4": _l("Grade 4"), "5": _l("Grade 5"),
        "no_ac": _l("No air conditioner"), "unknown": _l("Unknown"),
    },
    "pv_location": {"roof": _l("Roof"), "courtyard": _l("Courtyard"), "farm_building": _l("Farm building")},
    "pv_mode": {
        "self_use_surplus": _l("Self-use, surplus to the grid"), "all_to_grid": _l("All to the grid"),
        "off_grid": _l("Off-grid"),
    },
}

STATUS_LABELS = {
    "draft": _l("Draft"),
    "submitted": _l("Submitted"),
    "approved": _l("Approved"),
    "returned": _l("Returned"),
}

PHOTO_KIND_LABELS = {
    "house": _l("House front"),
    "roof": _l("Roof or PV"),
    "stove": _l("Stove"),
    "other": _l("Other"),
}

CHECK_MESSAGES = {
    "secondary_stove_differs": _l("The secondary stove must differ from the primary stove."),
    "evening_within_supply_hours": _l("Evening hours cannot be more than the hours a day."),
    "at_least_one_lamp": _l("Count at least one lamp."),
    "pv_capacity_positive": _l("The PV capacity must be more than 0 when PV is installed."),
    "biogas_needs_working_digester": _l("Biogas is used but the digester is not working: please check."),
}
