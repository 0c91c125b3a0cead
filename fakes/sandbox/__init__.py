"""The network sandbox's server side: per-world addresses and DNS."""
