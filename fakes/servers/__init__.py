"""The servers: Console, Rack and the egress guard, each a thin layer over the model."""
