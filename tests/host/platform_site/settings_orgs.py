"""The same platform with its own tenant: organisations with integer keys and a seat table, and no
`tenancy` app at all (CONTRACT.md: AIRWAVE_CLIENT_MODEL and AIRWAVE_CLIENT_ACCESS); its users have
UUID keys (`members.Member`)."""

from .settings import *  # noqa: F403
from .settings import INSTALLED_APPS

INSTALLED_APPS = [app for app in INSTALLED_APPS if app not in ("tenancy", "accounts")] + ["orgs", "members"]
AUTH_USER_MODEL = "members.Member"
AIRWAVE_CLIENT_MODEL = "orgs.Organization"  # ADOPT
AIRWAVE_CLIENT_ACCESS = "orgs.access.client_ids_for"  # ADOPT
