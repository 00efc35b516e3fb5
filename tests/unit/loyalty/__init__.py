"""unit: the loyalty domain over in-memory ports."""
