"""Bounded capture: head and tail kept, the middle counted, no half key at a cut."""

from __future__ import annotations

import pytest

from conformance.harness.evidence import MAX_EVIDENCE_OUTPUT, Redactor, bounded_text
from conformance.running.capture import (
    RETAINED_OUTPUT,
    SEAM_MARGIN,
    BoundedCapture,
    capture,
    parse_size,
    trim_end,
)

KEY = "key-" + "0123456789abcdef" * 2


def test_what_fits_is_kept_whole() -> None:
    kept = capture(b"hello\nworld\n", 1024)
    assert (kept.text, kept.dropped, kept.total) == ("hello\nworld\n", 0, 12)


def test_a_stream_over_the_limit_keeps_its_start_and_end() -> None:
    bounded = BoundedCapture(4096)
    bounded.feed(b"START\n")
    for _ in range(1000):
        bounded.feed(b"m" * 63 + b"\n")
    bounded.feed(b"END\n")
    kept = bounded.result()
    assert kept.text.startswith("START\n") and kept.text.endswith("END\n")
    assert kept.total == 6 + 64_000 + 4
    head, rest = kept.text.split("\n[... ", 1)
    tail = rest.split(" ...]\n", 1)[1]
    assert kept.dropped == kept.total - len(head.encode()) - len(tail.encode())
    assert len(head.encode()) <= 2048 and len(tail.encode()) <= 2048
    assert f"[... {kept.dropped} bytes of output dropped (--max-output) ...]" in kept.text


def test_memory_stays_within_the_limit_plus_one_chunk() -> None:
    bounded = BoundedCapture(8192)
    chunk = b"z" * 1000
    for _ in range(10_000):
        bounded.feed(chunk)
        assert len(bounded.head) + bounded.tail_size <= 8192 + len(chunk)
    assert bounded.result().dropped > 9_990_000


@pytest.mark.parametrize("offset", range(-40, 41, 7))
def test_a_key_cut_at_either_seam_leaves_no_part_of_itself(offset: int) -> None:
    limit = 4096
    # Put a key across the end of the head, then across the start of the tail.
    head_cut = limit // 2 + offset
    data = b"a " * (head_cut // 2) + KEY.encode() + b" " + b"b " * 20_000
    assert_no_part_of_key(capture(data, limit).text)
    tail_cut = len(data) - limit // 2 + offset
    data = b"c " * 20_000
    data = data[:tail_cut] + KEY.encode() + b" " + b"d " * 1000
    assert_no_part_of_key(capture(data, limit).text)


def assert_no_part_of_key(text: str) -> None:
    """Whole keys may stay (redaction takes them); no prefix or suffix of 4+ characters may."""
    rest = text.replace(KEY, "")
    for size in range(4, len(KEY)):
        assert KEY[:size] not in rest and KEY[-size:] not in rest, (size, rest[-80:])


def test_a_key_in_the_dropped_middle_is_named_in_the_marker() -> None:
    bounded = BoundedCapture(2048, watch=[KEY])
    bounded.feed(b"x\n" * 5000)
    # Split across two chunks: the search looks across chunk boundaries.
    bounded.feed(KEY[:10].encode())
    bounded.feed(KEY[10:].encode() + b"\n")
    bounded.feed(b"y\n" * 5000)
    kept = bounded.result()
    assert f"they contained {KEY}" in kept.text


def test_the_seam_trim_drops_at_most_the_margin() -> None:
    assert trim_end("ok " + "t" * 100) == "ok "
    long = "u" * (SEAM_MARGIN * 3)
    assert len(trim_end(long)) == len(long) - SEAM_MARGIN


def test_evidence_redacts_before_it_clips_and_counts_all_drops() -> None:
    redact = Redactor([KEY])
    text = "h" * (MAX_EVIDENCE_OUTPUT // 2 - 10) + KEY + "t" * MAX_EVIDENCE_OUTPUT
    shown, dropped = bounded_text(text, redact, dropped=1000)
    assert KEY[:8] not in shown and KEY[-8:] not in shown
    assert dropped > 1000 + MAX_EVIDENCE_OUTPUT // 2
    assert len(shown.encode()) <= MAX_EVIDENCE_OUTPUT + 200
    small, none = bounded_text("a " + KEY, redact)
    assert (small, none) == ("a <key>", 0)


@pytest.mark.parametrize(("text", "value"), [("1048576", 1 << 20), ("512K", 512 << 10),
                                             ("4M", 4 << 20), ("2MiB", 2 << 20)])
def test_sizes_parse(text: str, value: int) -> None:
    assert parse_size(text) == value


@pytest.mark.parametrize("text", ["lots", "-5", "1G", "12"])
def test_bad_sizes_are_one_line_errors(text: str) -> None:
    with pytest.raises(ValueError) as caught:
        parse_size(text)
    assert "\n" not in str(caught.value)


def test_one_checks_evidence_shares_a_budget_however_many_invocations() -> None:
    from conformance.harness.evidence import (
        CHECK_EVIDENCE_BUDGET,
        MIN_EVIDENCE_OUTPUT,
        evidence_data,
    )
    from conformance.running.invoke import Invocation

    flood = "start\n" + "f" * (RETAINED_OUTPUT * 2) + "\nend\n"
    invocations = [Invocation("apps", ["convox", "apps"], 0, flood, flood, 0.1)
                   for _ in range(200)]
    data = evidence_data(invocations, [], Redactor([]))
    shown = [inv["stdout"] + inv["stderr"] for inv in data["invocations"]]
    total = sum(len(text.encode()) for text in shown)
    assert total <= CHECK_EVIDENCE_BUDGET + len(shown) * 2 * (MIN_EVIDENCE_OUTPUT + 200)
    assert all(text.startswith("start\n") and text.endswith("end\n") for text in shown)
    assert all(inv["stdout_dropped"] > RETAINED_OUTPUT for inv in data["invocations"])
