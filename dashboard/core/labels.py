"""Colours shared by the dashboard's charts and the printed report (no Streamlit here)."""

# One colour per status on every chart: breaches red-ish, compliant green-ish, open neutral.
STATUS_COLORS = {
    "on_time": "#2e7d32",
    "extended_kept": "#81c784",
    "late": "#c62828",
    "extended_missed": "#ef6c00",
    "overdue": "#8e0000",
    "open": "#90a4ae",
    "open_extended": "#cfd8dc",
}
AREA_COLORS = {"Leistung": "#1565c0", "Integration": "#6a1b9a"}
