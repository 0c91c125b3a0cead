"""The network sandbox: deciding on one, real namespaces, and whole runs inside it."""
