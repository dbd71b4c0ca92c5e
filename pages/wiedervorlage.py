import streamlit as st
st.title("Wiedervorlage")
st.write(dict(st.query_params))
