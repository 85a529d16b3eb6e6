"""Development tools (not shipped in the product): the synthetic sample-data generator."""
