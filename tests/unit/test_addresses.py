"""The one address rule for outbound calls: every non-global destination is refused, however it is written."""

from __future__ import annotations

import pytest

from image_to_video.netcheck import is_public


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "169.254.169.254",
        "100.64.0.1",  # shared (CGNAT)
        "0.0.0.0",
        "192.0.2.1",  # documentation
        "224.0.0.1",
        "::1",
        "fe80::1",
        "fc00::1",
        "::ffff:127.0.0.1",  # mapped
        "::ffff:0:7f00:1",  # translated
        "::127.0.0.1",  # compatible
        "::a9fe:a9fe",  # compatible 169.254.169.254
        "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
        "64:ff9b::a9fe:a9fe",  # NAT64 of the metadata address
        "64:ff9b:1::808:808",  # local-use NAT64: refused outright
        "2002:7f00:1::",  # 6to4 of 127.0.0.1
        "2002:a9fe:a9fe::1",  # 6to4 of 169.254.169.254
        "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
        "fe80::1%eth0",
    ],
)
def test_non_global_destinations_are_refused(address):
    assert not is_public(address)


@pytest.mark.parametrize(
    "address", ["8.8.8.8", "1.1.1.1", "2606:4700::1111", "64:ff9b::808:808", "2002:808:808::1", "::ffff:8.8.8.8"]
)
def test_global_destinations_pass_however_written(address):
    assert is_public(address)


@pytest.mark.parametrize(
    "url", ["https://localhost/hook", "https://[::127.0.0.1]/hook", "https://[64:ff9b::a9fe:a9fe]/"]
)
def test_a_refusal_names_the_rule_never_the_address_a_name_resolved_to(url):
    from image_to_video import bounded_http

    with pytest.raises(bounded_http.Refused) as refused:
        bounded_http.resolve_public(url)
    message = str(refused.value)
    assert "private, loopback or link-local" in message
    assert "127.0.0.1" not in message and "::1" not in message and "169.254" not in message
