"""One module per source family: each finds its inputs under a path and reads them into
pyarrow tables for dlt."""
