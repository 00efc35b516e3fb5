"""unit: the cases capability (pure rules and domain services over in-memory ports)."""
