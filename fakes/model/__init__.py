"""The world model: what Console and racks hold and the rules that change it; no HTTP."""
