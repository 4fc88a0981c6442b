"""The platform's user: e-mail only, no username field at all."""

from accounts.base import EmailUser


class User(EmailUser):
    pass
