"""From pytest's hooks and reports to the results model."""
