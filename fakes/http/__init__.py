"""HTTP for the fakes: the HTTPS listener, messages, transport faults, the request journal."""
