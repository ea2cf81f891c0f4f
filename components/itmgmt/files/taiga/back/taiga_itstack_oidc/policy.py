"""Pure decisions about a Keycloak userinfo document (no Django import, unit-tested)."""
from dataclasses import dataclass


@dataclass(frozen=True)
class Identity:
    sub: str
    username: str
    email: str
    full_name: str
    is_admin: bool


class Refused(Exception):
    """The identity may not log in to Taiga; the message is shown to the user."""


def roles_of(claims: dict, claim: str) -> set:
    value = claims.get(claim) or []
    if isinstance(value, str):
        value = [value]
    return {str(v) for v in value}


def identity(claims: dict, *, user_role: str, admin_role: str, roles_claim: str = "roles") -> Identity:
    """Who logs in and whether as an admin; Refused unless the user holds one of the two roles."""
    sub = claims.get("sub")
    username = claims.get("preferred_username")
    email = claims.get("email")
    if not sub or not username:
        raise Refused("The identity provider sent no subject or user name.")
    if not email:
        raise Refused("Your directory account has no e-mail address; Taiga needs one.")
    roles = roles_of(claims, roles_claim)
    is_admin = admin_role in roles
    if not is_admin and user_role not in roles:
        raise Refused("Your account is not allowed to use Taiga (ask for the Taiga group in the directory).")
    full_name = claims.get("name") or " ".join(
        p for p in (claims.get("given_name"), claims.get("family_name")) if p
    )
    return Identity(sub=str(sub), username=str(username), email=str(email), full_name=full_name or str(username),
                    is_admin=is_admin)
