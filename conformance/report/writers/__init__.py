"""Every report file and screen a run writes, from one results model."""
