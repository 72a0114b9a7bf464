"""`flask create-firm`, `flask create-user`, `flask seed-demo`: a deployment needs no seed data."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

import click
from flask import Flask

from portal.extensions import db
from portal.models import ROLES, Firm, User


def register_cli(app: Flask) -> None:
    @app.cli.command("create-firm")
    @click.argument("name")
    def create_firm(name: str) -> None:
        """Create a firm and print its id."""
        name = name.strip()
        if not name:
            raise click.BadParameter("the firm needs a name", param_hint="NAME")
        firm = Firm(name=name)
        db.session.add(firm)
        db.session.commit()
        click.echo(f"Created firm {firm.id}: {firm.name}")

    @app.cli.command("create-user")
    @click.option("--firm", "firm_id", type=int, required=True, help="Firm id")
    @click.option("--email", required=True)
    @click.option("--name", required=True)
    @click.option("--role", type=click.Choice(ROLES), default="staff", show_default=True)
    @click.option("--rate", default="0", help="Hourly rate, e.g. 150.00")
    @click.password_option()
    def create_user(firm_id: int, email: str, name: str, role: str, rate: str, password: str):
        """Create a user in a firm (the password is prompted for, never echoed)."""
        from portal.users.passwords import password_problem

        if db.session.get(Firm, firm_id) is None:
            raise click.BadParameter(f"no firm with id {firm_id}", param_hint="--firm")
        email = email.strip().lower()
        if db.session.execute(db.select(User).where(User.email == email)).scalar_one_or_none():
            raise click.BadParameter("a user with this email already exists", param_hint="--email")
        problem = password_problem(password)
        if problem:
            raise click.BadParameter(problem, param_hint="password")
        try:
            hourly_rate = Decimal(rate).quantize(Decimal("0.01"))
        except InvalidOperation:
            raise click.BadParameter("not a number", param_hint="--rate") from None
        user = User(firm_id=firm_id, email=email, name=name.strip(), role=role,
                    hourly_rate=hourly_rate)
        user.set_password(password)
        db.session.add(user)
        db.session.commit()
        click.echo(f"Created {role} {email} in firm {firm_id}")

    @app.cli.command("seed-demo")
    def seed_demo() -> None:
        """Create the demo firm (idempotent: does nothing if it exists)."""
        from portal.demo_seed import seed_demo_firm

        created = seed_demo_firm()
        click.echo("Seeded the demo firm." if created else "The demo firm already exists.")
