"""Extract-load stage: reads the source files and lands them in the `raw` schema with dlt."""
