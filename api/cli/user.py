"""`fieldloop user create`: add a staff user from the command line.

This is how the first administrator is made, so it goes through `create_user` with no actor
(a trusted operator at the server). The password is never an argument, where `ps` and shell
history would keep it: it comes from FIELDLOOP_PASSWORD (for scripts) or is asked for twice
with hidden input.
"""

from __future__ import annotations

import os

import click
import msgspec

from api.auth.schemas import Role, UserCreate, UserOut
from api.auth.service import create_user
from api.cli import fail, run_with_database, settings_or_fail
from api.crews.tables import Crew

PASSWORD_VARIABLE = "FIELDLOOP_PASSWORD"


def read_password() -> str:
    # a one-off secret for this command, not a setting, hence not in api.settings
    given = os.environ.get(PASSWORD_VARIABLE, "")
    if given:
        return given
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


def user_request(username: str, password: str, role: Role, display_name: str) -> UserCreate:
    """The request `create_user` takes, checked by its schema; a bad value ends the command."""
    raw = {"username": username, "password": password, "role": role.value}
    try:
        return msgspec.convert(raw | {"display_name": display_name}, UserCreate)
    except msgspec.ValidationError as error:
        if "$.username" in str(error):
            fail(
                f"{username!r} cannot be a username: use 2 to 80 lower-case letters, digits, "
                "'.', '_' or '-'"
            )
        if "$.password" in str(error):
            fail("the password needs 8 to 200 characters")
        fail(f"invalid user: {error}")


async def _crew_id(name: str) -> int:
    row = await Crew.select(Crew.id).where(Crew.name == name).first()
    if row is None:
        names = [crew["name"] for crew in await Crew.select(Crew.name).order_by(Crew.name)]
        known = f"the crews are: {', '.join(names)}" if names else "there are no crews yet"
        fail(f"no crew named {name!r}; {known}")
    return row["id"]


@click.group("user")
def user_group() -> None:
    """Manage staff users."""


@user_group.command("create")
@click.argument("username")
@click.option(
    "--role", type=click.Choice([role.value for role in Role]), required=True, help="What they do."
)
@click.option("--crew", "crew_name", metavar="CREW_NAME", help="The crew of a crew user.")
@click.option("--display-name", default="", help="Name shown on timelines (default: USERNAME).")
def create_command(username: str, role: str, crew_name: str | None, display_name: str) -> None:
    """Create a staff user. The password comes from FIELDLOOP_PASSWORD, or is prompted for."""
    settings = settings_or_fail()
    if role == Role.CREW and not crew_name:
        raise click.UsageError("a crew user needs --crew CREW_NAME")
    if role != Role.CREW and crew_name:
        raise click.UsageError(f"only crew users belong to a crew; a {role} takes no --crew")
    request = user_request(username, read_password(), Role(role), display_name)

    async def create() -> UserOut:
        crew_id = await _crew_id(crew_name) if crew_name else None
        return await create_user(msgspec.structs.replace(request, crew_id=crew_id), actor=None)

    user = run_with_database(create, settings)
    crew = f", crew {crew_name}" if crew_name else ""
    click.echo(f"Created user {user.username} ({user.role}{crew}), id {user.id}.")


def register(group: click.Group) -> None:
    group.add_command(user_group)
