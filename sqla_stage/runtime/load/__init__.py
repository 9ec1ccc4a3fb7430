"""COPY INTO <table> and MatrixOne's LOAD DATA: staged files read by DuckDB into a table."""
