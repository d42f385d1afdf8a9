"""A ``domain|ip`` pair's address is the address the name resolved to: a DNS answer, or the
server an ``http.log`` or ``ssl.log`` record reached for the name (docs/intel.md). The
client that asked, or the resolver it asked, shows no such thing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from seawall.intel.matching.logs import LogFormat, reader_for
from seawall.intel.matching.matcher import Index
from seawall.intel.matching.observables import terms
from seawall.intel.matching.scan import scan

NOW = datetime(2026, 12, 7, tzinfo=UTC)
PAIR = (
    "[domain-name:value = 'evil.example' AND "
    "domain-name:resolves_to_refs[*].value = '198.51.100.9']"
)


def _count(lines: list[str]) -> int:
    found = terms(PAIR)
    assert found is not None
    tally = scan(lines, reader_for(LogFormat.ZEEK), Index.of([(0, found)]), [(None, None)], NOW)
    return sum(f.count for f in tally.found.values())


def test_an_answer_and_the_server_reached_prove_the_pair() -> None:
    dns = [
        "#separator \\x09\n",
        "#fields\tts\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tquery\tanswers\n",
        "1.0\t10.0.0.5\t50000\t10.0.0.53\t53\tevil.example\t198.51.100.9\n",
    ]
    http = [
        "#separator \\x09\n",
        "#fields\tts\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\thost\turi\n",
        "1.0\t10.0.0.5\t50000\t198.51.100.9\t80\tevil.example\t/\n",
    ]
    assert (_count(dns), _count(http)) == (1, 1)


@pytest.mark.xfail(
    strict=True,
    reason="a reader's addresses are one kind whichever side they stand on: the pair's "
    "address needs a kind of its own (answers and servers) in compiled.py and joins.py",
)
def test_the_client_or_the_resolver_proves_no_pair() -> None:
    dns = [
        "#separator \\x09\n",
        "#fields\tts\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tquery\tanswers\n",
        # The address asked for the name, and was answered another address.
        "1.0\t198.51.100.9\t50000\t10.0.0.53\t53\tevil.example\t203.0.113.5\n",
        # The resolver that was asked is no address of the name.
        "2.0\t10.0.0.5\t50000\t198.51.100.9\t53\tevil.example\t203.0.113.5\n",
    ]
    http = [
        "#separator \\x09\n",
        "#fields\tts\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\thost\turi\n",
        # The client asked a server at another address for the name.
        "1.0\t198.51.100.9\t50000\t203.0.113.5\t80\tevil.example\t/\n",
    ]
    assert (_count(dns), _count(http)) == (0, 0)
