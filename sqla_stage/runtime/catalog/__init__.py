"""The registry of stages, file formats, connections and load history, and the statements on it."""
