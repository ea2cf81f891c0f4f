"""Code exchange with Keycloak and the Taiga user behind an OIDC login."""
import requests
from django.apps import apps
from django.conf import settings
from django.db import transaction

from taiga.auth.services import make_auth_response_data
from taiga.base import exceptions as exc

from .policy import Refused, identity

AUTH_KEY = "itstack-oidc"
TIMEOUT = 10


def _cfg() -> dict:
    return settings.ITSTACK_OIDC


def _claims(code: str) -> dict:
    cfg = _cfg()
    try:
        token = requests.post(
            cfg["token_url"],
            data={
                "grant_type": "authorization_code",
                "code": code,
                # Fixed on the server: a caller cannot choose where codes are bound.
                "redirect_uri": cfg["redirect_uri"],
                "client_id": cfg["client_id"],
                "client_secret": cfg["client_secret"],
            },
            headers={"Accept": "application/json"},
            timeout=TIMEOUT,
        )
        if token.status_code != 200:
            raise exc.AuthenticationFailed("The identity provider refused the login code.")
        access = token.json().get("access_token")
        if not access:
            raise exc.AuthenticationFailed("The identity provider returned no access token.")
        info = requests.get(
            cfg["userinfo_url"],
            headers={"Accept": "application/json", "Authorization": f"Bearer {access}"},
            timeout=TIMEOUT,
        )
        if info.status_code != 200:
            raise exc.AuthenticationFailed("The identity provider refused the user information request.")
        return info.json()
    except requests.RequestException:
        raise exc.AuthenticationFailed("The identity provider cannot be reached.")


@transaction.atomic
def _user(ident):
    user_model = apps.get_model("users", "User")
    auth_data_model = apps.get_model("users", "AuthData")
    link = auth_data_model.objects.select_related("user").filter(key=AUTH_KEY, value=ident.sub).first()
    if link is not None:
        user = link.user
    else:
        user = user_model.objects.filter(username__iexact=ident.username).first()
        if user is None:
            user = user_model(username=ident.username, email=ident.email, full_name=ident.full_name,
                              is_active=True, verified_email=True)
            user.set_unusable_password()
            user.save()
        elif user.is_system or user.username == _cfg().get("local_admin"):
            # Never hand a local or system account to a directory identity of the same name.
            raise exc.PermissionDenied("This user name belongs to a local Taiga account.")
        auth_data_model.objects.create(user=user, key=AUTH_KEY, value=ident.sub, extra={})
    if not user.is_active:
        raise exc.PermissionDenied("This Taiga account is disabled.")
    # The directory is authoritative: name, mail and admin rights follow it on every login.
    user.email = ident.email
    user.full_name = ident.full_name
    user.is_superuser = ident.is_admin
    user.is_staff = ident.is_admin
    user.save(update_fields=["email", "full_name", "is_superuser", "is_staff"])
    return user


def login(request):
    code = request.DATA.get("code")
    if not code:
        raise exc.BadRequest("Missing login code.")
    cfg = _cfg()
    try:
        ident = identity(_claims(code), user_role=cfg["user_role"], admin_role=cfg["admin_role"],
                         roles_claim=cfg.get("roles_claim", "roles"))
    except Refused as e:
        raise exc.PermissionDenied(str(e))
    return make_auth_response_data(_user(ident))
