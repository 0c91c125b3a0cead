"""Where worlds live: in this process, or in `serve` processes behind the admin API.

Every backend serves the world actions of one table, :mod:`fakes.backends.actions`.
The names below are here, not in a backend's module, so that naming the default
backend (every command's options do) imports no backend.
"""

#: Where installed packages register backends (``--backend NAME``).
ENTRY_POINT_GROUP = "convox_conformance.backends"
#: The backend a run uses unless told otherwise: the fakes in the run's own process.
DEFAULT_BACKEND = "inprocess"
