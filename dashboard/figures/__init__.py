"""Pure figure builders: DataFrame in, Plotly figure dict out. No I/O, no request state."""
