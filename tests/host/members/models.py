"""The second platform's user: UUID keys (as many platforms have), e-mail only."""

import uuid

from accounts.base import EmailUser
from django.db import models


class Member(EmailUser):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
