"""The logs beside an x509 log (ssl, files, and the x509 log itself, read for its
certificates) are read as a matched log is: a JSON line nested past Python's stack is a
broken line that names no host, and a TSV line ending in ``\\r\\n`` keeps no ``\\r`` in its
last cell."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from seawall.intel.matching.hosts import CertificateHosts, zeek_records
from seawall.intel.matching.logs import LogFormat, reader_for
from seawall.intel.matching.observables import Kind

DEEP = 100_000
FP, OTHER = "ab" * 32, "cd" * 32
NESTED = [
    '{"ts":1.0,"a":' + "[" * DEEP + "]" * DEEP + "}\n",  # finished
    '{"ts":1.0,"cert_chain_fps":' + "[" * DEEP + "\n",  # unfinished
    '{"ts":1.0,"id.orig_h":"10.9.9.9","fuid":"F1","rx_hosts":' + "{" * DEEP + "\n",
]


def _json(**fields: object) -> str:
    return json.dumps({"ts": 1.0, **fields}) + "\n"


def _x509(folder: Path) -> Path:
    x509 = folder / "x509.log"
    record = _json(id="F1", fingerprint=FP, **{"certificate.subject": "CN=evil.example"})
    x509.write_text(NESTED[0] + record + NESTED[1])
    return x509


@pytest.mark.parametrize("kind", ["ssl", "files"])
def test_a_companion_log_holding_a_line_nested_past_the_stack_still_names_the_host(
    tmp_path: Path, kind: str
) -> None:
    x509 = _x509(tmp_path)
    linking = (
        _json(**{"id.orig_h": "10.1.1.1", "id.resp_h": "203.0.113.9"}, cert_chain_fps=[FP])
        if kind == "ssl"
        else _json(fuid="F1", tx_hosts=["203.0.113.9"], rx_hosts=["10.1.1.1"])
    )
    (tmp_path / f"{kind}.log").write_text("".join(NESTED) + linking + "".join(NESTED))
    assert CertificateHosts(x509).host(["F1", FP]) == "10.1.1.1"
    read = reader_for(LogFormat.ZEEK_JSON, x509)
    observed = [read(line) for line in x509.read_text().splitlines(keepends=True)]
    assert observed == [None, ("1.0", "10.1.1.1", [(Kind.HASH, FP)]), None]


def test_a_nested_line_is_read_as_a_record_that_names_nothing(tmp_path: Path) -> None:
    log = tmp_path / "ssl.log"
    log.write_text("".join(NESTED) + _json(cert_chain_fps=[FP], **{"id.orig_h": "10.1.1.1"}))
    assert list(zeek_records(log)) == [
        {},
        {},
        {},
        {"ts": ["1.0"], "cert_chain_fps": [FP], "id.orig_h": ["10.1.1.1"]},
    ]


def test_values_nested_near_the_stack_limit_name_no_host_and_never_raise(tmp_path: Path) -> None:
    # A certificate key nested d lists deep is no key, whether json reads the line or not;
    # str() of such a value could overflow the stack where json.loads did not.
    lines = []
    for depth in range(2, 1200, 7):
        nested, closing = "[" * depth, "]" * depth
        fps = f'{nested}"{FP}"{closing}'
        lines.append(f'{{"ts":1.0,"id.orig_h":"10.2.2.2","cert_chain_fps":{fps}}}\n')
        host = f'{nested}"10.3.3.3"{closing}'
        lines.append(f'{{"ts":1.0,"id.orig_h":{host},"cert_chain_fps":["{OTHER}"]}}\n')
    x509 = tmp_path / "x509.log"
    x509.write_text(_json(fingerprint=FP) + _json(fingerprint=OTHER))
    (tmp_path / "ssl.log").write_text("".join(lines))
    records = list(zeek_records(tmp_path / "ssl.log"))
    assert len(records) == len(lines)
    assert all(r.get("cert_chain_fps", []) in ([], [OTHER]) for r in records)
    assert all(r.get("id.orig_h", []) in ([], ["10.2.2.2"]) for r in records)
    hosts = CertificateHosts(x509)
    assert hosts.host([FP]) is None and hosts.host([OTHER]) is None


def test_crlf_companion_logs_link_by_their_last_column(tmp_path: Path) -> None:
    x509 = tmp_path / "x509.log"
    x509.write_bytes(
        b"#separator \\x09\r\n#set_separator\t,\r\n#path\tx509\r\n"
        b"#fields\tts\tid\tcertificate.subject\tsan.dns\tfingerprint\r\n"
        + f"1700000000.0\tF1\tCN=evil.example\tevil.example\t{FP}\r\n".encode()
        + f"1700000001.0\tF2\tCN=other.example\tother.example\t{OTHER}\r\n".encode()
    )
    ssl = tmp_path / "ssl.log"
    ssl.write_bytes(
        b"#separator \\x09\r\n#set_separator\t,\r\n#path\tssl\r\n"
        b"#fields\tts\tid.orig_h\tid.resp_h\tcert_chain_fps\r\n"
        + f"1700000000.0\t172.20.1.5\t203.0.113.9\t{FP}\r\n".encode()
    )
    (tmp_path / "files.log").write_bytes(
        b"#separator \\x09\r\n#fields\tts\tfuid\ttx_hosts\trx_hosts\r\n"
        + b"1700000001.0\tF2\t203.0.113.9\t10.0.0.5,10.0.0.6\r\n"
    )
    assert list(zeek_records(ssl)) == [
        {
            "ts": ["1700000000.0"],
            "id.orig_h": ["172.20.1.5"],
            "id.resp_h": ["203.0.113.9"],
            "cert_chain_fps": [FP],
        }
    ]
    hosts = CertificateHosts(x509)
    assert hosts.host([FP]) == "172.20.1.5"
    assert hosts.host(["F2", OTHER]) == "10.0.0.5"
    read = reader_for(LogFormat.ZEEK, x509)
    observed = [read(line) for line in x509.read_bytes().decode().split("\n")]
    assert [o[1] for o in observed if o is not None] == ["172.20.1.5", "10.0.0.5"]
