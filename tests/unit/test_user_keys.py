"""A host's user key goes on the wire as it is: a number for integer keys, a string for UUID keys. The host
projects (tests/host/) run both end to end; these are the pieces, quickly."""

from __future__ import annotations

import uuid

from assets.serializers import UserKeyField
from assets.users import user_key
from image_to_video.tickets import ticket_issue, ticket_redeem


def test_integer_keys_stay_numbers_and_uuid_keys_become_strings():
    key = uuid.uuid4()
    assert user_key(7) == 7 and user_key(key) == str(key)
    assert UserKeyField().to_representation(key) == str(key)


def test_a_socket_ticket_carries_a_uuid_user_key():
    key = uuid.uuid4()
    ticket = ticket_redeem(ticket_issue(user_id=key, client_id=5))
    assert ticket is not None and (ticket.user_id, ticket.client_id) == (str(key), "5")
    assert ticket_redeem(ticket_issue(user_id=7, client_id="c")).user_id == "7"
