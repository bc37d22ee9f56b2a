"""``python -m uqms``: the ``uqms`` command."""

from uqms.cli import app

if __name__ == "__main__":
    app(prog_name="uqms")
