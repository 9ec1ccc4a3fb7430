"""Queries over staged files: columns, sources, warehouse functions, INTO OUTFILE, DATALINK."""
