"""Which log values join indicator values, column by column, in polars.

The distinct values of a log column are joined against the indicator values of their kind
as the exact matcher (:mod:`~seawall.intel.matching.matcher`) would look them up: names
(lower case, no trailing dot, IDNs in punycode) and every parent name of them against the
domains; a connection's ports against the ports of endpoint indicators; addresses
as written against the addresses, and as integers under each prefix length against the
ranges; URLs (``http://``, host in lower case) with and without their query against the
URLs; hashes and e-mail addresses in lower case, file names as written. Lower case is
Python's for text outside ASCII (polars's differs there). Each join also notes the
indicator values it hit, so the exact matcher is given only those.

What joins may still not match (a value of another kind, any IPv6 address when an
indicator is IPv6): the exact matcher decides. What does not join never matches.
"""

from __future__ import annotations

import ipaddress
import socket

import polars as pl

from seawall.intel.matching.compiled import KINDS, Compiled
from seawall.intel.matching.logs import ZEEK_PORTS
from seawall.intel.matching.observables import Kind, domain, normalise

_IPV4 = r"^\d{1,3}(?:\.\d{1,3}){3}$"  # what the line reader takes for an address
_OCTETS = r"^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$"
_LOWERED = (Kind.DOMAIN, Kind.HASH, Kind.EMAIL)  # looked up without case
TAIL = 8  # characters of a name compared before it is looked up whole (held inline by polars)


class Known:
    """The indicator values of each kind (as series), the ranges by prefix length, and the
    parts they belong to."""

    def __init__(self, compiled: Compiled) -> None:
        parts = compiled.parts.with_row_index("part").select("kind", "value", "part")
        # Each kind's parts (value, part): a block's joined values are looked for among
        # their own kind's only.
        groups = parts.partition_by("kind", as_dict=True, include_key=False)
        none = parts.select("value", "part").clear()
        self.parts_of = {kind: groups.get((KINDS.index(kind),), none) for kind in Kind}
        self.by_kind = {
            kind: found["value"].unique() if found.height else found["value"]
            for kind, found in self.parts_of.items()
        }
        addresses = (self.by_kind[Kind.IP], self.by_kind[Kind.RESOLVED])
        self.ipv6 = any(bool(ips.str.contains(":", literal=True).any()) for ips in addresses)
        # The parts of IPv6 values, which every block gives the exact matcher (it normalises).
        self.ipv6_parts = pl.concat(
            self.parts_of[kind].filter(pl.col("value").str.contains(":", literal=True))["part"]
            for kind in (Kind.IP, Kind.RESOLVED)
        )
        # IPv4 ranges of addresses and of resolved addresses (a domain|ip pair's), by kind.
        self.ranges: dict[Kind, dict[int, pl.Series]] = {}
        # A /8, /16 or /24 holds the addresses written with its first octets: by kind and
        # prefix, those octets as text ("198.51.100.") and the range they stand for.
        self.octets: dict[Kind, dict[int, dict[str, str]]] = {}
        self.octet_heads: dict[Kind, dict[int, pl.Series]] = {}  # the same heads, as series
        for kind, ips in zip((Kind.IP, Kind.RESOLVED), addresses, strict=True):
            ranges = ips.filter(ips.str.contains("/", literal=True) & ~ips.str.contains(":"))
            octets: dict[int, dict[str, str]] = {}
            by_prefix: dict[int, list[int]] = {}
            for text in ranges.to_list():
                prefix, number = _ipv4_range(text)
                if prefix in (8, 16, 24):
                    head = ".".join(text.split(".")[: prefix // 8])
                    octets.setdefault(prefix, {})[f"{head}."] = text
                else:
                    by_prefix.setdefault(prefix, []).append(number)
            self.octets[kind] = octets
            self.octet_heads[kind] = {
                prefix: pl.Series(list(heads), dtype=pl.String) for prefix, heads in octets.items()
            }
            self.ranges[kind] = {
                prefix: pl.Series(numbers, dtype=pl.UInt32).unique()
                for prefix, numbers in by_prefix.items()
            }
        # How many labels the domains have: a name is looked up only at those lengths.
        dots = self.by_kind[Kind.DOMAIN].str.count_matches(".", literal=True)
        self.labels = frozenset(int(n) + 1 for n in dots.unique().to_list())
        # Every domain's last characters (as many as the shortest has, up to TAIL): a name
        # that ends in none of them is no domain and under none.
        domains = self.by_kind[Kind.DOMAIN]
        shortest = domains.str.len_chars().min() if domains.len() else 0
        self.tail = min(TAIL, shortest if isinstance(shortest, int) else 0)
        self.tails = domains.str.slice(-self.tail).unique() if self.tail else domains
        # Endpoint values by port: a record with such a port on a side is a candidate.
        self.ports = endpoint_ports(self.by_kind[Kind.ENDPOINT])

    def has(self, kind: Kind) -> bool:
        """Whether any indicator has a value of ``kind``."""
        return self.by_kind[kind].len() > 0


def _ipv4_range(text: str) -> tuple[int, int]:
    """An IPv4 range's prefix length and first address (as an integer), from the canonical
    text a compiled set holds ("198.51.100.0/24"; ``ipaddress`` costs ten times as much);
    ValueError or OSError for any other text."""
    address, _, bits = text.partition("/")
    number = int.from_bytes(socket.inet_pton(socket.AF_INET, address))
    prefix = int(bits) if bits.isascii() and bits.isdigit() else -1
    if not 0 <= prefix <= 32 or number & ((1 << (32 - prefix)) - 1):
        raise ValueError(f"not an IPv4 network: {text!r}")
    return prefix, number


def endpoint_ports(endpoints: pl.Series) -> dict[int, list[str]]:
    """Endpoint values (``address:port``) by their port."""
    ports: dict[int, list[str]] = {}
    for value in endpoints.to_list():
        ports.setdefault(int(value.rpartition(":")[2]), []).append(value)
    return ports


def compiled_ports(compiled: Compiled) -> dict[int, list[str]]:
    """The endpoint values of a compiled set by port (without building :class:`Known`)."""
    found = compiled.parts.filter(pl.col("kind") == KINDS.index(Kind.ENDPOINT))["value"]
    return endpoint_ports(found.unique())


def _in(values: pl.Expr, found: pl.Series) -> pl.Expr:
    return values.is_in(found.implode())


def _member(values: pl.Series, known: pl.Series) -> pl.Series:
    """Which values are among ``known`` (null where a value is null)."""
    return values.to_frame("v").select(_among(pl.col("v"), known, values.len())).to_series()


def _among(values: pl.Expr, known: pl.Series, count: int) -> pl.Expr:
    """Whether each of ``values`` (``count`` of them, at most) is among ``known``, in one
    call into polars. ``is_in`` hashes the side it is given: the smaller side is hashed,
    so a million indicator values are probed, not hashed into a table per block and per
    lookup."""
    if known.len() <= count:
        return values.is_in(known.implode())
    among = pl.lit(known).filter(pl.lit(known).is_in(values.implode()))
    return values.is_in(among.implode())


def _parents(
    names: pl.Series, domains: pl.Series, labels: frozenset[int]
) -> tuple[pl.Series, set[str]]:
    """Which names are a domain or under one, and the domains they are under.

    A name and its parents are looked up only where they have as many labels as some
    domain (``labels``): a name of four labels against domains of three is looked up once,
    as its parent. Every level is looked up in one call into polars."""
    # Level n (n labels taken off the front) is worth a lookup if some name then has as
    # many labels as some domain.
    dots = names.str.count_matches(".", literal=True).unique().drop_nulls().to_list()
    levels = {d + 1 - n for d in dots for n in labels if d + 1 >= n}
    if not levels:
        return pl.repeat(False, names.len(), dtype=pl.Boolean, eager=True), set()
    current = pl.col("n")
    found: list[pl.Expr] = []  # each level's name where it is a domain, else null
    for level in range(max(levels) + 1):
        if level:
            current = current.str.splitn(".", 2).struct.field("field_1")
        if level in levels:
            found.append(pl.when(_among(current, domains, names.len())).then(current))
    domains_hit = names.to_frame("n").select(e.alias(str(at)) for at, e in enumerate(found))
    hit = domains_hit.select(pl.any_horizontal(pl.all().is_not_null())).to_series()
    joined = {d for column in domains_hit.iter_columns() for d in column.drop_nulls().to_list()}
    return hit, joined


def _ipv4_numbers(values: pl.Series) -> pl.Series:
    """Each dotted-quad address as an integer; null for anything else."""
    octets = values.str.extract_groups(_OCTETS)
    number = pl.lit(0, dtype=pl.UInt64)
    for at in range(4):
        octet = octets.struct.field(str(at + 1)).cast(pl.UInt64, strict=False)
        number = number * 256 + pl.when(octet <= 255).then(octet).otherwise(None)
    return pl.select(number.alias("n")).to_series()


def _not_ascii(values: pl.Series) -> pl.Series:
    """Where the values are not ASCII (a character of more than one byte)."""
    return (values.str.len_bytes() != values.str.len_chars()).arg_true()


def _in_octets(
    values: pl.Series, kind: Kind, sets: Known, joined: set[tuple[Kind, str]]
) -> pl.Series:
    """Which values are addresses in a /8, /16 or /24 range, by their first octets as text:
    the matcher takes only canonical dotted quads (inet_pton), whose last octets are
    digits (anything else that passes is left to the matcher)."""
    octets = sets.octets[kind]
    head = pl.col("v")
    heads: dict[int, pl.Expr] = {}
    for prefix in (24, 16, 8):
        if prefix < min(octets):
            break
        if prefix != 24:  # the next octet off: "198.51." from "198.51.100."
            head = head.str.strip_chars_end(".")
        head = head.str.strip_chars_end("0123456789")  # an address ends in a digit
        if prefix in octets:
            heads[prefix] = head
    # Every prefix length at once, in one call into polars: each head, if it is a range's.
    known = sets.octet_heads[kind]
    found = values.to_frame("v").select(
        pl.when(head.is_in(known[prefix].implode())).then(head).alias(str(prefix))
        for prefix, head in heads.items()
    )
    hit = pl.repeat(False, values.len(), dtype=pl.Boolean, eager=True)
    for prefix in heads:
        inside = found[str(prefix)]
        if inside.null_count() < inside.len():
            hit = hit | inside.is_not_null()
            ranges = octets[prefix]
            joined.update((kind, ranges[h]) for h in inside.drop_nulls().unique().to_list())
    return hit


def _lower(values: pl.Series, ascii: bool = False) -> pl.Series:
    """``str.lower`` of each value: polars for ASCII, Python for the rest (they differ);
    ``ascii`` says that every value is ASCII."""
    lowered = values.str.to_lowercase()
    if ascii:
        return lowered
    other = _not_ascii(values)
    if other.len():
        python = pl.Series([v.lower() for v in values.gather(other).to_list()], dtype=pl.String)
        lowered = lowered.scatter(other, python)
    return lowered


def matching(
    values: pl.Series,
    kind: Kind | None,
    sets: Known,
    joined: set[tuple[Kind, str]],
    ascii: bool = False,
) -> pl.Series:
    """The distinct cell values that may match an indicator; adds the indicator values hit.

    A cell of no set kind (``host``) is an address when the line reader takes it for one
    (``host_kind``), else a name; so is a cell of :attr:`Kind.RESOLVED` (``answers``, a
    server reached for a name), whose addresses match addresses and resolved addresses.
    ``ascii`` says that every value is ASCII (none is then looked at for other text)."""
    if kind is not None and kind is not Kind.RESOLVED:
        return values.filter(_matching_kind(values, kind, sets, joined, ascii))
    is_ip = values.str.contains(":", literal=True) | values.str.contains(_IPV4)
    ips, names = values.filter(is_ip), values.filter(~is_ip)
    hit = _matching_kind(ips, Kind.IP, sets, joined)
    if kind is Kind.RESOLVED:
        hit = hit | _matching_kind(ips, Kind.RESOLVED, sets, joined)
    return pl.concat(
        [ips.filter(hit), names.filter(_matching_kind(names, Kind.DOMAIN, sets, joined, ascii))]
    )


def _names(values: pl.Series, ascii: bool = False) -> pl.Series:
    """Each name as the matcher looks it up: ASCII in lower case without a final dot, any
    other in punycode (null where IDNA refuses it); ``ascii`` says that all are ASCII."""
    names = values.str.to_lowercase().str.strip_chars_end(".")
    if ascii:
        return names
    other = _not_ascii(values)
    if other.len():
        idn = pl.Series([domain(v) for v in values.gather(other).to_list()], dtype=pl.String)
        names = names.scatter(other, idn)
    return names


def _ending_like(values: pl.Series, sets: Known, ascii: bool) -> pl.Series:
    """Which names may be a domain or under one: those whose last characters (in lower
    case) end some domain, and those :func:`_names` changes more than that (a final dot,
    text outside ASCII). A name under a domain ends with it, so no other can match."""
    if not sets.tail:
        return pl.repeat(True, values.len(), dtype=pl.Boolean, eager=True)
    name = pl.col("v")
    ending = name.str.slice(-sets.tail)
    # Names share their last characters: each is lowered once (in one order, as the
    # expression reads the distinct endings twice).
    endings = ending.unique(maintain_order=True)
    near = endings.filter(endings.str.to_lowercase().is_in(sets.tails.implode()))
    maybe = ending.is_in(near.implode()) | name.str.ends_with(".")
    if not ascii:
        maybe = maybe | (name.str.len_bytes() != name.str.len_chars())
    return values.to_frame("v").select(maybe.fill_null(False)).to_series()  # one call


def _emails(values: pl.Series, ascii: bool = False) -> pl.Series:
    """Each e-mail address as the matcher looks it up: ASCII in lower case, any other with
    its domain in punycode (null where IDNA refuses it); ``ascii`` says that all are ASCII."""
    lowered = values.str.to_lowercase()
    if ascii:
        return lowered
    other = values.str.contains(r"^[\x00-\x7f]*$").not_().arg_true()
    if other.len():
        exact = [normalise(Kind.EMAIL, v) for v in values.gather(other).to_list()]
        lowered = lowered.scatter(other, pl.Series(exact, dtype=pl.String))
    return lowered


def _matching_kind(
    values: pl.Series, kind: Kind, sets: Known, joined: set[tuple[Kind, str]], ascii: bool = False
) -> pl.Series:
    known = sets.by_kind[kind]
    if not known.len() or not values.len():
        return pl.repeat(False, values.len(), dtype=pl.Boolean, eager=True)
    if kind is Kind.DOMAIN:
        maybe = _ending_like(values, sets, ascii)
        hit, domains = _parents(_names(values.filter(maybe), ascii), known, sets.labels)
        joined.update((Kind.DOMAIN, d) for d in domains)
        return pl.repeat(False, values.len(), dtype=pl.Boolean, eager=True).scatter(
            maybe.arg_true(), hit
        )
    if kind is Kind.IP or kind is Kind.RESOLVED:
        hit = _member(values, known)
        joined.update((kind, v) for v in values.filter(hit).to_list())
        if sets.ipv6:
            hit = hit | values.str.contains(":", literal=True)
        if sets.octets[kind]:
            hit = hit | _in_octets(values, kind, sets, joined)
        if sets.ranges[kind]:
            numbers = _ipv4_numbers(values)
            for prefix, networks in sets.ranges[kind].items():
                size = 1 << (32 - prefix)
                network = (numbers - numbers % size).cast(pl.UInt32, strict=False)
                inside = network.is_in(networks.implode()).fill_null(False)
                if inside.any():
                    hit = hit | inside
                    for number in network.filter(inside).unique().to_list():
                        joined.add((kind, f"{ipaddress.IPv4Address(number)}/{prefix}"))
        return hit
    if kind is Kind.EMAIL:
        shown = _emails(values, ascii)
    else:
        shown = _lower(values, ascii) if kind in _LOWERED else values
    hit = _member(shown, known)
    joined.update((kind, v) for v in shown.filter(hit).to_list())
    return hit


def url_rows(frame: pl.DataFrame, sets: Known, joined: set[tuple[Kind, str]]) -> pl.Series:
    """Records whose URL (``http://`` host and URI) is an indicator's, with or without its
    query. Printable ASCII is normalised here; anything else as the exact path does."""
    host, uri = pl.col("host"), pl.col("uri")
    with_url = frame.select(pl.int_range(pl.len(), dtype=pl.UInt32).alias("row"), host, uri)
    with_url = with_url.filter(
        uri.is_not_null() & (uri != "-") & host.is_not_null() & (host != "-") & (host != "")
    ).select("row", pl.concat_str([host, uri]).alias("rest"))
    rest = pl.col("rest")
    clean = rest.str.contains(r"^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$")
    pieces = rest.str.splitn("/", 2)
    shown = pl.concat_str(
        [
            pl.lit("http://"),
            pieces.struct.field("field_0").str.to_lowercase(),
            pl.when(pieces.struct.field("field_1").is_not_null())
            .then(pl.lit("/") + pieces.struct.field("field_1"))
            .otherwise(pl.lit("")),
        ]
    )
    urls = with_url.filter(clean).select("row", shown.alias("shown"))
    other = with_url.filter(~clean)
    if other.height:
        exact = [normalise(Kind.URL, f"http://{r}") for r in other["rest"].to_list()]
        urls = pl.concat(
            [urls, pl.DataFrame({"row": other["row"], "shown": pl.Series(exact, dtype=pl.String)})]
        )
    urls = urls.with_columns(
        pl.col("shown").str.splitn("?", 2).struct.field("field_0").alias("bare")
    )
    known = sets.by_kind[Kind.URL]
    found = urls.filter(_in(pl.col("shown"), known) | _in(pl.col("bare"), known))
    for pair in found.select("shown", "bare").iter_rows():
        joined.update((Kind.URL, url) for url in pair)
    return found["row"]


def endpoint_rows(frame: pl.DataFrame, sets: Known, joined: set[tuple[Kind, str]]) -> pl.Series:
    """Records with the port of an endpoint indicator on either side of the connection
    (the exact matcher compares the address); notes those indicators' endpoints."""
    ports = pl.Series(list(sets.ports), dtype=pl.Int64).implode()
    rows: list[pl.Series] = []
    for column in ZEEK_PORTS:
        if column in frame.columns:
            numbers = frame[column].str.extract(r"^([0-9]+)$").cast(pl.Int64, strict=False)
            hit = numbers.is_in(ports).fill_null(False)
            rows.append(hit.arg_true().cast(pl.UInt32))
            for port in numbers.filter(hit).unique().to_list():
                joined.update((Kind.ENDPOINT, value) for value in sets.ports[port])
    return pl.concat(rows) if rows else pl.Series([], dtype=pl.UInt32)


def candidate_rows(
    frame: pl.DataFrame,
    fields: dict[str, Kind | None],
    separator: str,
    sets: Known,
    joined: set[tuple[Kind, str]],
    *,
    lists: bool = True,
    brackets: bool = True,
    ascii: bool = False,
) -> pl.Series:
    """The rows of a frame of Zeek columns (``fields``: column -> kind, None for a name or
    an address) holding a value that joins an indicator's. ``lists`` False says that no
    cell holds ``separator`` (no set or vector has two items), ``brackets`` False that none
    holds ``<`` or ``>``: the cells are then not searched for them; ``ascii`` True that
    every cell is ASCII.

    Each call into polars costs a fraction of a millisecond however little it does, so the
    columns are handled together where they can be: their distinct cells in one call, the
    items of the columns of one kind looked at in one pass, and the rows in one call."""
    columns = {name: kind for name, kind in fields.items() if name in frame.columns}
    # Logs repeat themselves: each distinct cell is split and looked at once.
    distinct = frame.select(pl.col(name).unique().implode() for name in columns)
    items: dict[str, pl.DataFrame] = {}  # a column's distinct cells and their items
    by_kind: dict[Kind | None, list[pl.Series]] = {}
    for name, kind in columns.items():
        cell = distinct[name][0].rename(name)
        several = lists and cell.str.contains(separator, literal=True).any()
        bracketed = brackets and cell.str.contains("[<>]").any()  # e-mail addresses <like@this>
        if several or bracketed:
            item = pl.col(name)
            if several:
                item = item.str.split(separator)
            found = cell.to_frame().lazy().select(pl.col(name).alias("cell"), item.alias("item"))
            if several:
                found = found.explode("item")
            if bracketed:
                found = found.with_columns(pl.col("item").str.strip_chars("<>"))
            items[name] = found.collect(engine="in-memory")  # the streaming one costs more
            by_kind.setdefault(kind, []).append(items[name]["item"].unique())
        else:
            by_kind.setdefault(kind, []).append(cell)
    # The columns of one kind are looked at together (a client's and a server's addresses).
    kept = {
        kind: matching(
            pl.concat(values).unique() if len(values) > 1 else values[0],
            kind,
            sets,
            joined,
            ascii,
        )
        for kind, values in by_kind.items()
    }
    hits: list[pl.Expr] = []
    for name, kind in columns.items():
        if not kept[kind].len():
            continue
        if name in items:
            hit_cells = items[name].filter(_in(pl.col("item"), kept[kind]))["cell"]
        else:
            hit_cells = kept[kind]
        hits.append(_in(pl.col(name), hit_cells))
    found = (
        frame.select(pl.arg_where(pl.any_horizontal(hits))).to_series()  # in order, once each
        if hits
        else pl.Series([], dtype=pl.UInt32)
    )
    others: list[pl.Series] = []
    if "host" in frame.columns and "uri" in frame.columns and sets.has(Kind.URL):
        others.append(url_rows(frame, sets, joined))
    if sets.ports:
        others.append(endpoint_rows(frame, sets, joined))
    return pl.concat([found, *others]).unique().sort() if others else found


def joined_parts(sets: Known, joined: set[tuple[Kind, str]]) -> set[int]:
    """The parts whose values were joined (every IPv6 one, when any indicator is IPv6: the
    exact matcher normalises addresses)."""
    by_kind: dict[Kind, list[str]] = {}
    for kind, value in joined:
        by_kind.setdefault(kind, []).append(value)
    # A filter, not a join: a join would hash every part (a million, at a million values).
    found = [
        sets.parts_of[kind].filter(_in(pl.col("value"), pl.Series(values, dtype=pl.String)))["part"]
        for kind, values in by_kind.items()
    ]
    if sets.ipv6:
        found.append(sets.ipv6_parts)
    return set(pl.concat(found).to_list()) if found else set()
