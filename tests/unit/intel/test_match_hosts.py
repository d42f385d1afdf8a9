"""files.log and x509.log matches name the internal host, on the real zat logs."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from seawall.intel.matching.columnar import read_header
from seawall.intel.matching.hosts import is_internal, zeek_records
from seawall.intel.matching.logs import LogFormat, ZeekJsonReader, detect_format, reader_for
from seawall.intel.matching.observables import Kind

ZEEK = Path(__file__).parents[2] / "data" / "zeek"


def _observed(path: Path) -> list[tuple[str | None, str | None, list[tuple[Kind, str]]]]:
    lines = path.read_text().splitlines(keepends=True)
    read = reader_for(detect_format(lines[:20]), path)
    return [o for o in map(read, lines) if o is not None]


def _hosts_of(path: Path, kind: Kind, value: str) -> list[str | None]:
    return [source for _, source, values in _observed(path) if (kind, value) in values]


@pytest.mark.parametrize(
    ("address", "internal"),
    [
        ("10.18.20.97", True),
        ("172.16.0.1", True),
        ("172.31.255.255", True),
        ("172.32.0.1", False),
        ("192.168.33.10", True),
        ("fd00::1", True),
        ("FC00::2", True),
        ("54.245.228.191", False),
        ("2001:db8::1", False),
        ("8.8.8.8", False),
        ("not-an-address", False),
    ],
)
def test_internal_means_rfc1918_or_rfc4193(address: str, internal: bool) -> None:
    assert is_internal(address) is internal


def test_a_files_log_hash_names_the_internal_host_that_received_the_file() -> None:
    # 54.245.228.191 (external) sent the file to 192.168.33.10 (internal).
    md5 = "92bf83360b8ed10d82e38bcdcfcfa4a7"
    assert _hosts_of(ZEEK / "files.log", Kind.HASH, md5) == ["192.168.33.10"]


def test_every_files_log_record_names_an_internal_host() -> None:
    observed = _observed(ZEEK / "files.log")
    assert len(observed) == 107  # 113 records, 6 with no hosts and no hashes ("(empty)")
    assert {source for _, source, _ in observed} == {"192.168.33.10"}


def test_a_zeek_json_files_log_names_the_receiver_or_else_the_internal_sender() -> None:
    observed = _observed(ZEEK / "json" / "files.log")
    by_hash = {v: s for _, s, values in observed for k, v in values if k is Kind.HASH}
    # SMB between two internal hosts: the one that received the file.
    assert by_hash["b20996efc49d181769db184aeea375a2"] == "10.18.20.97"
    assert all(source is not None and is_internal(source) for source in by_hash.values())


def test_an_x509_match_names_the_internal_client_from_the_sibling_ssl_and_files_logs() -> None:
    # json/x509.log carries no host; its certificate FzTguv1nVRN3QQxMI7 was offered to
    # 10.18.20.97 (json/ssl.log's cert_chain_fuids, json/files.log's rx_hosts).
    hosts = _hosts_of(ZEEK / "json" / "x509.log", Kind.DOMAIN, "mail.aol.com")
    assert hosts == ["10.18.20.97"]


def test_x509_records_name_a_host_wherever_a_sibling_log_links_them(tmp_path: Path) -> None:
    # Without its siblings, an x509 record names no host (and is still matched).
    alone = tmp_path / "x509.log"
    alone.write_bytes((ZEEK / "json" / "x509.log").read_bytes())
    assert _hosts_of(alone, Kind.DOMAIN, "mail.aol.com") == [None]
    # With only files.log beside it, files.log links it.
    (tmp_path / "files.log").write_bytes((ZEEK / "json" / "files.log").read_bytes())
    assert _hosts_of(alone, Kind.DOMAIN, "mail.aol.com") == ["10.18.20.97"]
    observed = _observed(ZEEK / "json" / "x509.log")
    assert len(observed) == 50
    named = [source for _, source, _ in observed if source is not None]
    assert named and all(is_internal(s) for s in named)


def test_a_tsv_x509_log_without_siblings_names_no_host() -> None:
    # The 2017 x509.log has no ssl.log or files.log of its own capture beside it: the
    # top folder's ssl.log is another capture, and none of its certificates are there.
    hosts = _hosts_of(ZEEK / "x509.log", Kind.DOMAIN, "pipe.skype.com")
    assert hosts == [None, None, None]  # three certificates list it


def test_an_x509_log_links_by_fingerprint_as_zeek_4_2_and_later_log_it(tmp_path: Path) -> None:
    fp = "ab" * 32
    (tmp_path / "x509.log").write_text(
        "#separator \\x09\n#set_separator\t,\n#path\tx509\n"
        "#fields\tts\tfingerprint\tcertificate.subject\tsan.dns\thost_cert\tclient_cert\n"
        f"1700000000.0\t{fp}\tCN=evil.example\tevil.example\tT\tF\n"
    )
    (tmp_path / "ssl.log").write_text(
        "#separator \\x09\n#set_separator\t,\n#path\tssl\n"
        "#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tserver_name"
        "\tcert_chain_fps\tclient_cert_chain_fps\n"
        f"1700000000.0\tCabc\t203.0.113.9\t51000\t172.20.1.5\t443\tevil.example\t{fp}\t-\n"
    )
    # An inbound connection: the internal host is the responder.
    assert _hosts_of(tmp_path / "x509.log", Kind.HASH, fp) == ["172.20.1.5"]


def test_a_rotated_x509_log_finds_the_ssl_log_of_the_same_hour(tmp_path: Path) -> None:
    name = "x509.10:00:00-11:00:00.log"
    (tmp_path / name).write_bytes((ZEEK / "json" / "x509.log").read_bytes())
    (tmp_path / "ssl.10:00:00-11:00:00.log").write_bytes((ZEEK / "json" / "ssl.log").read_bytes())
    assert _hosts_of(tmp_path / name, Kind.DOMAIN, "mail.aol.com") == ["10.18.20.97"]


def test_a_reader_without_a_path_still_reads_x509() -> None:
    lines = (ZEEK / "json" / "x509.log").read_text().splitlines()
    read = reader_for(LogFormat.ZEEK_JSON)
    first = read(lines[0])
    assert first is not None
    assert first[1] is None
    assert (Kind.DOMAIN, "mail.aol.com") in first[2]


def test_a_growing_x509_log_finds_the_host_of_a_certificate_linked_later(tmp_path: Path) -> None:
    # Zeek writes a connection's ssl.log line when it ends, after its certificates.
    fp = "cd" * 32
    x509, ssl = tmp_path / "x509.log", tmp_path / "ssl.log"
    record = {
        "ts": 1.0,
        "fingerprint": fp,
        "certificate.subject": "CN=c2",
        "san.dns": ["c2.example"],
    }
    x509.write_text(json.dumps(record) + "\n")
    ssl.write_text(json.dumps({"ts": 1.0, "id.orig_h": "8.8.8.8", "cert_chain_fps": []}) + "\n")
    now, patient = ZeekJsonReader(x509), ZeekJsonReader(x509)
    now.certificates.every, patient.certificates.every = 0.0, 3600.0
    line = x509.read_text()
    assert [read(line)[1] for read in (now, patient)] == [None, None]  # type: ignore[index]
    with ssl.open("a") as out:
        out.write(json.dumps({"ts": 2.0, "id.orig_h": "10.1.1.1", "cert_chain_fps": [fp]}) + "\n")
    # The logs are read again on a miss once they changed, at most every `every` seconds.
    assert [read(line)[1] for read in (now, patient)] == ["10.1.1.1", None]  # type: ignore[index]


def test_an_x509_log_read_in_byte_ranges_names_the_same_hosts() -> None:
    from datetime import UTC, datetime

    from seawall.intel.matching.matcher import Index, Matcher, Part
    from seawall.intel.matching.observables import Observable
    from seawall.intel.matching.scan import scan_range, start_worker

    log = ZEEK / "json" / "x509.log"
    index = Index(Matcher.of([(Observable(Kind.DOMAIN, "mail.aol.com"), 0)]), {0: Part(0, 0, 1)})
    start_worker(index, [(None, None)])
    size = log.stat().st_size
    now = datetime.now(UTC)
    halves = [
        scan_range(str(log), a, b, LogFormat.ZEEK_JSON, [], now)
        for a, b in ((0, size // 2), (size // 2, size))
    ]
    sources = [s for t in halves if 0 in t.found for s in t.found[0].sources.elements()]
    whole = scan_range(str(log), 0, size, LogFormat.ZEEK_JSON, [], now).found[0]
    assert sorted(sources) == sorted(whole.sources.elements())
    assert set(sources) == {"10.18.20.97"} and len(sources) == whole.count


def test_a_zeek_string_holding_the_set_separator_is_one_value() -> None:
    # #types says which columns are sets or vectors: only those are split on the set
    # separator; a file name with a comma in it is one name.
    lines = (ZEEK / "files.log").read_text().splitlines(keepends=True)
    header = [line for line in lines if line.startswith("#") and not line.startswith("#close")]
    record = lines[len(header)].split("\t")
    names = header[-2].rstrip("\n").split("\t")[1:]
    record[names.index("filename")] = "invoice, final.exe"
    record[names.index("rx_hosts")] = "192.168.33.10,10.0.0.9"
    read = reader_for(LogFormat.ZEEK)
    for line in header:
        read(line)
    observed = read("\t".join(record))
    assert observed is not None
    assert (Kind.FILE_NAME, "invoice, final.exe") in observed[2]
    assert {(Kind.IP, "192.168.33.10"), (Kind.IP, "10.0.0.9")} <= set(observed[2])


def test_a_set_separator_that_is_no_escape_is_taken_as_written(tmp_path: Path) -> None:
    log = tmp_path / "dns.log"
    log.write_text(
        "#separator \\x09\n#set_separator\t\\x\n#fields\tts\tquery\tanswers\n"
        "1400000000.0\tevil.example\t10.0.0.1\\x10.0.0.2\n"
    )
    observed = _observed(log)
    assert {(Kind.RESOLVED, "10.0.0.1"), (Kind.RESOLVED, "10.0.0.2")} <= set(observed[0][2])
    header = log.read_bytes().partition(b"1400")[0]
    found = read_header(header)
    assert found is not None and found.separator == "\\x"


def test_broken_sibling_logs_name_no_host(tmp_path: Path) -> None:
    x509 = tmp_path / "x509.a.log"
    x509.write_text(
        "#separator \\x09\n#fields\tts\tid\tcertificate.serial\tsan.dns\n"
        "1400000000.0\tF1\t01\tevil.example\n"
    )
    garbled = bytearray(gzip.compress(b"#fields\tfuid\trx_hosts\n" + b"F1\t10.0.0.1\n" * 9999))
    garbled[40:-40] = bytes(b ^ 0xFF for b in garbled[40:-40])  # a broken deflate stream
    (tmp_path / "files.a.log").write_bytes(bytes(garbled))
    (tmp_path / "ssl.a.log").write_text("#set_separator\t\\x\n#fields\tcert_chain_fuids\n")
    assert list(zeek_records(tmp_path / "files.a.log")) == []
    assert _hosts_of(x509, Kind.DOMAIN, "evil.example") == [None]
