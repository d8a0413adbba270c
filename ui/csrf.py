"""CSRF protection of the UI's state-changing actions: a signed double-submit token.

Each process draws a secret at start. A page that holds a form sets a cookie with a random nonce and
its HMAC under the secret, and puts the same token in the form; a POST is accepted only when the
form's token equals the cookie's and its signature is this process's. Another site can make a browser
send the cookie but can neither read it nor forge a token that verifies, and a token made by another
process (or before a restart) is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

COOKIE = "wf_csrf"
FIELD = "csrf_token"


class CsrfTokens:
    def __init__(self) -> None:
        self._secret = secrets.token_bytes(32)

    def _sign(self, nonce: str) -> str:
        return hmac.new(self._secret, nonce.encode(), hashlib.sha256).hexdigest()

    def new(self) -> str:
        nonce = secrets.token_hex(16)
        return f"{nonce}.{self._sign(nonce)}"

    def valid(self, token: str | None) -> bool:
        if not token or "." not in token:
            return False
        nonce, signature = token.split(".", 1)
        return hmac.compare_digest(signature, self._sign(nonce))

    def check(self, cookie: str | None, form: str | None) -> bool:
        """Whether a POST carries this process's token both in its cookie and in its form."""
        return bool(cookie and form) and hmac.compare_digest(str(cookie), str(form)) and self.valid(cookie)
