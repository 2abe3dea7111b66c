"""`PORT=8000 make run` (issue 18, point 4): every printed or mailed link uses the port it serves on,
unless BASE_URL is set."""

from __future__ import annotations

import os
import shutil
import subprocess  # nosec B404 - runs make on this repository's Makefile
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from lms import create_app
from lms.extensions import db as _db
from lms.models import OutboxMessage, Role
from lms.services import accounts, badges
from lms.services.mail import external_url
from tests.conftest import make_config

ROOT = Path(__file__).resolve().parent.parent


def base_url(monkeypatch: pytest.MonkeyPatch, **environment: str) -> str:
    for name in ("BASE_URL", "HOST", "PORT"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    return str(create_app("testing").config["BASE_URL"])


def test_links_follow_the_port_and_host_make_run_serves_on(monkeypatch) -> None:
    assert base_url(monkeypatch) == "http://127.0.0.1:5000"
    assert base_url(monkeypatch, PORT="8000") == "http://127.0.0.1:8000"
    assert base_url(monkeypatch, PORT="8000", HOST="127.0.0.1") == "http://127.0.0.1:8000"
    assert base_url(monkeypatch, HOST="lms.local") == "http://lms.local:5000"
    # "Every interface" is not an address to link to; on this machine it is 127.0.0.1.
    assert base_url(monkeypatch, HOST="0.0.0.0", PORT="8000") == "http://127.0.0.1:8000"  # nosec B104
    assert base_url(monkeypatch, HOST="::1", PORT="8000") == "http://[::1]:8000"


def test_base_url_in_the_environment_wins(monkeypatch) -> None:
    assert (
        base_url(monkeypatch, PORT="8000", HOST="0.0.0.0", BASE_URL="https://lms.example.org")  # nosec B104
        == "https://lms.example.org"
    )
    # A configuration's own BASE_URL (as the tests and the browser tests set) beats HOST and PORT.
    monkeypatch.delenv("BASE_URL")
    monkeypatch.setenv("LMS_CONFIG", "testing")
    assert create_app({"BASE_URL": "https://given.example"}).config["BASE_URL"] == (
        "https://given.example"
    )


def test_with_port_8000_the_demo_mail_and_badges_link_to_port_8000(
    app, database_url, monkeypatch, tmp_path
) -> None:
    monkeypatch.setenv("PORT", "8000")
    served = create_app(make_config(database_url, tmp_path / "evidence-8000"))
    with served.app_context():
        result = served.test_cli_runner().invoke(args=["lms", "demo"])
        assert result.exit_code == 0, result.output
        printed = [line for line in result.output.splitlines() if "/verify/" in line]
        assert len(printed) == 3
        assert all("http://127.0.0.1:8000/verify/" in line for line in printed), printed

        person = accounts.create_user(
            email="nieuw@example.org",
            first_name="Nieuw",
            last_name="Persoon",
            role=Role.PARTICIPANT,
        )
        link = accounts.send_invitation(person)
        assert link.startswith("http://127.0.0.1:8000/set-password/")
        mail = _db.session.scalars(
            sa.select(OutboxMessage).where(OutboxMessage.recipient == person.email)
        ).one()
        assert link in mail.body_text and link in mail.body_html
        assert external_url("main.index") == "http://127.0.0.1:8000/"
        assert badges.issuer_did() == "did:web:127.0.0.1%3A8000"
        # The issuer's own website is configuration (ISSUER_URL); what this app serves is on port 8000.
        assert badges.status_list_url() == "http://127.0.0.1:8000/badges/status/1"
        assert badges.issuer_profile()["image"]["id"].startswith("http://127.0.0.1:8000/static/")
        _db.session.rollback()
        _db.session.remove()
        _db.engine.dispose()


def fake_virtualenv(folder: Path) -> Path:
    """A stand-in for .venv: installed already, and its flask prints the BASE_URL the real
    application gets from the environment make gives it (its other commands do nothing)."""
    bin_dir = folder / "bin"
    bin_dir.mkdir(parents=True)
    (folder / ".installed").touch()  # newer than the requirements: nothing to install
    for name in ("python", "pip", "pybabel"):
        script = bin_dir / name
        script.write_text("#!/bin/sh\nexit 0\n")
        script.chmod(0o755)
    flask = bin_dir / "flask"
    flask.write_text(
        "#!/bin/sh\n"
        f'cd "{ROOT}"\n'
        f'exec "{sys.executable}" -c "import sys; from lms import create_app; '
        "print('flask', *sys.argv[3:], '->', create_app('testing').config['BASE_URL'])\" \"$@\"\n"
    )
    flask.chmod(0o755)
    return folder


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
@pytest.mark.parametrize(
    ("arguments", "environment", "expected"),
    [
        ([], {"PORT": "8000"}, "http://127.0.0.1:8000"),
        (["PORT=8000"], {"BASE_URL": "https://lms.example.org"}, "https://lms.example.org"),
    ],
)
def test_make_run_gives_every_flask_command_the_port(
    tmp_path, arguments: list[str], environment: dict[str, str], expected: str
) -> None:
    venv = fake_virtualenv(tmp_path / "venv")
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in ("BASE_URL", "HOST", "PORT", "MAKEFLAGS", "MAKELEVEL")
    }
    completed = subprocess.run(  # nosec B603 B607 - make from PATH, fixed arguments
        ["make", "--no-print-directory", "run", f"VENV={venv}", *arguments],
        cwd=ROOT,
        env={**env, **environment},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    lines = [line for line in completed.stdout.splitlines() if line.startswith("flask ")]
    commands = {line.split(" -> ")[0] for line in lines}
    assert {"flask db upgrade", "flask lms demo", "flask lms scheduler"} <= commands, lines
    assert any(command.startswith("flask run") for command in commands), lines
    assert {line.split(" -> ")[1] for line in lines} == {expected}, lines
