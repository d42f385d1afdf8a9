"""``seawall embassy site`` and ``exposure``: where a repository's sites are, and swapping one."""

from __future__ import annotations

import click
from rich.markup import escape

from seawall.catalogs import counted
from seawall.cli.context import CliState, pass_state
from seawall.cli.embassy.access import access_to, progress_bar, repo_option
from seawall.cli.output import emit_json, emit_table, json_option, say
from seawall.embassy import registry, service
from seawall.embassy.exposure import DEFAULT_STORM_RADIUS_KM, Place
from seawall.embassy.sites import redact_url


@click.group()
def site() -> None:
    """Manage a repository's sites."""


@site.command("replace")
@repo_option
@click.argument("old")
@click.argument("new")
@pass_state
def site_replace(state: CliState, repo_ref: str, old: str, new: str) -> None:
    """Swap site OLD (URL or number from 1) for the empty site NEW and rebuild its shares."""
    with progress_bar(True) as progress:
        service.replace_site(access_to(state, repo_ref), old, new, progress=progress)
    say(f"Site replaced: {redact_url(old)} -> {redact_url(new)}")


@site.command("locate")
@repo_option
@click.argument("site_ref", metavar="SITE")
@click.option("--place", required=True, help="A name people know, e.g. 'Belize City'.")
@click.option("--lat", type=float, required=True, help="Latitude in degrees (north positive).")
@click.option("--lon", type=float, required=True, help="Longitude in degrees (east positive).")
@pass_state
def site_locate(
    state: CliState, repo_ref: str, site_ref: str, place: str, lat: float, lon: float
) -> None:
    """Record where SITE (URL or number from 1) is, for the site map and storm exposure."""
    where = Place(place, lat, lon)
    with state.operator_unit() as ctx:
        url = registry.locate_site(ctx, registry.get_repo(ctx, repo_ref), site_ref, where)
    say(f"Site {redact_url(url)} is at {where.name} ({where.lat:.4f}, {where.lon:.4f})")


@click.command()
@repo_option
@click.option(
    "--radius-km",
    type=float,
    default=DEFAULT_STORM_RADIUS_KM,
    show_default=True,
    help="Radius of one storm's footprint.",
)
@json_option
@pass_state
def exposure(state: CliState, repo_ref: str, radius_km: float, as_json: bool) -> None:
    """Could one storm take out more sites than the repository can lose? (exit 1 if so)"""
    with state.operator_unit() as ctx:
        row, found = service.assess_exposure(ctx, repo_ref, radius_km)
    hit = [redact_url(row.sites[i]) for i in found.sites]
    if as_json:
        emit_json(
            {
                "radius_km": found.radius_km,
                "tolerable": found.tolerable,
                "at_risk": found.at_risk,
                "sites": hit,
                "center": list(found.center) if found.center else None,
                "unlocated": [redact_url(row.sites[i]) for i in found.unlocated],
            }
        )
    else:
        emit_table(
            f"Sites of {row.name} ({row.k}-of-{row.n})",
            ["#", "Site", "Place", "In the worst footprint"],
            [
                [
                    str(i + 1),
                    redact_url(url),
                    getattr(found.places[i], "name", "(not located)"),
                    "yes" if i in found.sites else "",
                ]
                for i, url in enumerate(row.sites)
            ],
        )
        if found.unlocated:
            say(
                f"[yellow]{counted(len(found.unlocated), 'site')} not located[/]; "
                f"record them with `seawall embassy site locate --repo {escape(row.name)} ...`",
                markup=True,
            )
        if found.all_local:
            say(
                f"[yellow]all {counted(row.n, 'site')} are folders on this machine[/] (as in the "
                f"demo): one "
                "fault of this machine takes them all, wherever they are said to be",
                markup=True,
            )
        if not found.sites:
            return
        worst = (
            f"Worst {found.radius_km:g} km footprint covers {len(hit)} of {counted(row.n, 'site')}"
        )
        if found.at_risk:
            say(
                f"{worst}; [red]at risk[/]: a restore needs {counted(row.k, 'site')}, and one "
                f"storm could "
                f"take {len(hit)} of them",
                markup=True,
            )
        else:
            say(
                f"{worst}; [green]spread enough[/]: one storm takes at most "
                f"{counted(len(hit), 'site')}; "
                f"{row.k} of the rest rebuild every snapshot",
                markup=True,
            )
    if found.at_risk:
        raise click.exceptions.Exit(1)
