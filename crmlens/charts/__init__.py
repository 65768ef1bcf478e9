"""Plotly figures, one module per view. Each function takes query results and the
translation function `t`, and returns a figure; no queries and no Streamlit here."""
