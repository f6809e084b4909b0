"""Reference setups, one module per chapter family: every number of a setup lives here once."""
