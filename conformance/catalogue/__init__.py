"""The rule catalogue: ``specs/*.toml`` as data, validated by hand.

Users adopt a conformance suite for its rules, so every rule must be traceable
to a documented sentence and linked to a check. This package is the single
place that reads the catalogue, one module per job:

- :mod:`.model`: rules, areas, sources and the catalogue, as frozen data;
- :mod:`.loading`: finding ``specs/`` (or the installed copy) and loading it;
- :mod:`.validation`: one-line problems for malformed TOML;
- :mod:`.faq`: FAQ sentences, verbatim quotes and coverage;
- :mod:`.links`: which checks cover which rules, read statically (``rules --check``);
- :mod:`.requests`: what each capability sends to the fakes and which code answers it;
- :mod:`.where`: one rule's checks and fake code as ``file:line`` (``rules --where``);
- :mod:`.listing`: the ``rules`` table;
- :mod:`.covering`: which rule covers each kind of set-up step.

Import from here (``from conformance.catalogue import load_catalogue``); the
modules behind it may move.
"""

from conformance.catalogue.faq import (
    FAQ_FILE,
    FAQ_NOT_RULES_FILE,
    faq_coverage,
    faq_sentences,
    normalise,
)
from conformance.catalogue.links import CheckLink, check_links, default_checks_dir, scan_checks
from conformance.catalogue.listing import format_rules
from conformance.catalogue.loading import AREA_ORDER, default_specs_dir, load_catalogue
from conformance.catalogue.model import (
    LEVELS,
    Area,
    Catalogue,
    CatalogueError,
    FaqNotRule,
    Rule,
    Source,
)
from conformance.catalogue.requests import (
    Handler,
    RequestTable,
    load_requests,
    locate,
    request_problems,
)
from conformance.catalogue.validation import CAPABILITIES, DOCS_PAGES, WIRE_SECTIONS
from conformance.catalogue.where import describe_where

__all__ = [
    "AREA_ORDER", "CAPABILITIES", "DOCS_PAGES", "FAQ_FILE", "FAQ_NOT_RULES_FILE", "LEVELS",
    "WIRE_SECTIONS", "Area", "Catalogue", "CatalogueError", "CheckLink", "FaqNotRule", "Handler",
    "RequestTable", "Rule", "Source", "check_links", "default_checks_dir", "default_specs_dir",
    "describe_where", "faq_coverage", "faq_sentences", "format_rules", "load_catalogue",
    "load_requests", "locate", "normalise", "request_problems", "scan_checks",
]
