"""Where worlds live: in this process, or in `serve` processes behind the admin API."""
