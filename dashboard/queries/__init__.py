"""The measures of the rules: fn(con, as_of, filters, ...) -> DataFrame, no Streamlit."""
