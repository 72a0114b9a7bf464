"""Password rules: 8 to 128 characters, not one of the most common passwords, and not the
person's own email or name (the first things an attacker tries for a given account)."""

from __future__ import annotations

MIN_LENGTH = 8
MAX_LENGTH = 128

# A short list of the passwords attackers try first (from public breach top lists).
COMMON = frozenset(
    """
    password password1 password12 password123 passw0rd 12345678 123456789 1234567890 qwerty123
    qwertyuiop 11111111 00000000 iloveyou abc12345 letmein1 welcome1 admin123 administrator
    sunshine princess football baseball dragon123 monkey123 trustno1 starwars 1q2w3e4r
    1qaz2wsx zaq12wsx qwerty12 changeme accounting quickbooks practice123 firmadmin
    password! welcome123 letmein123 qwerty1234 123123123 87654321 abcd1234 p@ssw0rd
    p@ssword changeme1 bookkeeping taxseason payroll123 portal123 practiceportal
    """.split()
)


def password_problem(
    password: str, email: str | None = None, name: str | None = None
) -> str | None:
    """Why `password` is refused, or None when it is acceptable."""
    if len(password) < MIN_LENGTH:
        return f"Use at least {MIN_LENGTH} characters."
    if len(password) > MAX_LENGTH:
        return f"Use at most {MAX_LENGTH} characters."
    lowered = password.lower()
    if lowered in COMMON:
        return "This password is too common. Choose another."
    if email and lowered in {email.strip().lower(), email.strip().lower().split("@")[0]}:
        return "Do not use the email address as the password."
    if name and lowered.replace(" ", "") == name.strip().lower().replace(" ", ""):
        return "Do not use the person's name as the password."
    return None
