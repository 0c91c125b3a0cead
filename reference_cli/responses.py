"""What a server's answer means: success, a refusal with its reason, or JSON.

Kept apart from :mod:`transport` (which only moves bytes) because these are the
judgements the rules are about: a 401 points at ``convox login``, a malformed
body is an error and never half-trusted data.
"""

from __future__ import annotations

from reference_cli import errors, transport

#: Success. The fakes, like the real servers, answer 200 when a request succeeds.
SUCCESS = range(200, 300)


def error_message(resp: transport.Response) -> str:
    """The server's error: JSON ``{"error": msg}``, else the text body, else the status."""
    import json

    text = resp.body.decode("utf-8", "replace").strip()
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, dict) and isinstance(data.get("error"), str) and data["error"].strip():
        text = data["error"].strip()
    first_line = text.splitlines()[0].strip() if text else ""
    if first_line:
        return first_line[:500]  # mutation: no rule bounds the length of an error line
    return f"response status {resp.status} {resp.reason}".strip()


def check_response(resp: transport.Response, host: str) -> None:
    """Raise for anything but 2xx; a 401 points the user at ``convox login <host>``."""
    if resp.status in SUCCESS:
        return
    if resp.status == 401:
        raise errors.CliError(
            f"{host} rejected the key (401 unauthorized: {error_message(resp)}); "
            f"log in again with `convox login {host}`"
        )
    raise errors.CliError(error_message(resp))


def parse_json(resp: transport.Response, host: str) -> object:
    """Decode a JSON body; malformed JSON is an error, never half-trusted data."""
    import json

    if not resp.body.strip():
        raise errors.CliError(f"invalid response from {host}: empty body")
    try:
        return json.loads(resp.body.decode("utf-8"))
    except ValueError:
        raise errors.CliError(f"invalid response from {host}: malformed JSON") from None
