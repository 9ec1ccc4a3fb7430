"""COPY INTO <location>: DuckDB writes the files, the runtime names, sizes and publishes them."""
