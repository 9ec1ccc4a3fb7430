"""The engine plugin, the execute hook that runs stage statements, their results and context."""
