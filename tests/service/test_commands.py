"""create_client, generate_video and reconcile_assets as an operator runs them."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from assets.models import Asset
from tenancy.models import Membership
from tests.conftest import ASTRONAUT, ROOT, embedded_env
from tests.videos import probe_video


def _json_line(capsys) -> dict:
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_create_client_prints_ids_and_a_working_token(db, capsys, client):
    call_command("create_client", "Acme", "--user", "alice", "--password", "pw")
    first = _json_line(capsys)
    call_command("create_client", "Acme", "--user", "alice")
    again = _json_line(capsys)
    assert first == again, "reuses the client, the user and the token"
    assert Membership.objects.filter(client_id=first["clientId"], user_id=first["userId"]).count() == 1
    response = client.get(
        f"/api/image-to-video/jobs/client/{first['clientId']}", HTTP_AUTHORIZATION=f"Token {first['token']}"
    )
    assert response.status_code == 200
    login = client.post("/accounts/login/", {"username": "alice", "password": "pw"})
    assert login.status_code == 302, "the password works on the login page"


def test_generate_video_files_an_asset_in_s3(transactional_db, capsys, s3):
    call_command("create_client", "Ops", "--user", "op")
    owner = _json_line(capsys)
    call_command(
        "generate_video",
        str(ASTRONAUT),
        "--motion-type",
        "pan",
        "--motion-direction",
        "up",
        "--duration",
        "1",
        "--width",
        "128",
        "--height",
        "96",
        "--client",
        owner["clientId"],
        "--user",
        "op",
    )
    out = _json_line(capsys)
    assert out["status"] == "completed"
    asset = Asset.objects.get(pk=out["assetId"])
    assert str(asset.job.pk) == out["jobId"] and str(asset.client_id) == owner["clientId"]
    assert out["path"] == asset.file.name and out["path"].startswith(f"clients/{owner['clientId']}/")


def test_generate_video_fails_with_nonzero_exit_on_bad_input(transactional_db, tmp_path):
    from django.core.management.base import CommandError

    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not an image")
    with pytest.raises(CommandError, match="not an image"):
        call_command("generate_video", str(bad))
    with pytest.raises(CommandError, match="motionDirection"):
        call_command("generate_video", str(ASTRONAUT), "--motion-type", "rotation", "--motion-direction", "in")


def test_embedded_defaults_generate_video_end_to_end(tmp_path):
    """What `make demo` does: SQLite, local media, in-process worker, progress bar, playable MP4."""
    env = embedded_env(tmp_path)
    manage = [sys.executable, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "-v0"], env=env, check=True, cwd=ROOT, timeout=120)
    proc = subprocess.run(
        [*manage, "generate_video", str(ASTRONAUT), "--duration", "1", "--width", "160", "--height", "160"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["status"] == "completed" and out["assetId"]
    path = Path(out["path"])
    assert path.is_file() and str(path).startswith(str(tmp_path / "var" / "media"))
    info = probe_video(path)
    assert (info.width, info.height, info.frames, info.codec) == (160, 160, 30, "h264")
    assert "100%" in proc.stderr, "a progress bar on stderr"
    assert (tmp_path / "var" / "airwave.sqlite3").is_file()


def test_generate_video_for_a_client_uses_its_own_member(transactional_db, capsys, s3):
    call_command("create_client", "Shop", "--user", "owner")
    owner = _json_line(capsys)
    call_command(
        "generate_video",
        str(ASTRONAUT),
        "--duration",
        "1",
        "--width",
        "64",
        "--height",
        "64",
        "--client",
        owner["clientId"],
    )
    out = _json_line(capsys)
    assert Asset.objects.get(pk=out["assetId"]).user_id == owner["userId"]
    assert Membership.objects.filter(client_id=owner["clientId"]).count() == 1, "nobody was added to the client"


def test_generate_video_refuses_a_user_outside_the_client(transactional_db, capsys):
    from django.core.management.base import CommandError

    call_command("create_client", "Shop", "--user", "owner")
    shop = _json_line(capsys)
    call_command("create_client", "Elsewhere", "--user", "stranger")
    with pytest.raises(CommandError, match="not a member"):
        call_command("generate_video", str(ASTRONAUT), "--client", shop["clientId"], "--user", "stranger")
