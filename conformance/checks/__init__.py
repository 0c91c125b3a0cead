"""The executable specs: one module per area of specs/, each check marked with its rule ids."""
