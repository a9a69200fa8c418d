"""impactlab."""
