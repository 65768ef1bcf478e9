"""The floor of bench.browser: a Streamlit page with one Plotly chart and one figure, and nothing else (no data, no
queries, no sidebar). No page of the app can be drawn faster than this in the same browser on the same machine: what
a page takes above it is the app's."""

import plotly.graph_objects as go
import streamlit as st

st.title("Floor")
st.metric("Orders", "1,234")
st.plotly_chart(go.Figure(go.Bar(x=["a", "b", "c"], y=[3, 1, 2])))
