"""Streamlit building blocks the pages share, one module per concern.

- `sidebar`: the shared filters kept in the URL, the previous period, period labels;
- `widgets`: the error guard, column configs, ticket links and other small layout pieces;
- `downloads`: CSV/XLSX files, audited download buttons and the record of views;
- `charts`: the Plotly figures of the pages (German separators, shared colours);
- `auth`: sign-in.

Layout helpers only: no SQL and no rule lives here (figures come from `dashboard.serving`).
"""
