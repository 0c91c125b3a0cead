"""Where worlds live: in this process, or in `serve` processes behind the admin API.

Every backend serves the world actions of one table, :mod:`fakes.backends.actions`.
"""
