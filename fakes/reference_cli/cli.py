"""The bundled reference Convox CLI: the suite's embedded default implementation.

It speaks the classic CLI's file layout (``host``, ``auth``, ``rack``, ``id`` in
``$CONVOX_CONFIG`` or ``~/.convox``) and the Convox HTTP API, and it is meant to
pass every conformance rule.  Two design constraints shape this module:

* Start-up speed: ``convox-conformance`` runs it hundreds of times, so only ``os``
  and ``sys`` are imported at module load; everything else (``json``, ``ssl``,
  ``http.client``...) is imported inside the function that needs it.
* Mutants: the mutant zoo replaces exactly one attribute of this module and then
  calls :func:`main`.  Every step is therefore a small module-level function that
  its callers look up by name at call time (never bound early in closures,
  default arguments or dispatch tables), so replacing ``cli.read_auth`` or
  ``cli.request_headers`` changes behaviour everywhere it is used.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:  # only for annotations: importing these at run time costs start-up
    import http.client
    import ssl

VERSION = "1.0.0"
"""Sent as the ``Version`` header and printed by ``--version``."""

DEFAULT_HOST = "console.convox.com"
DEFAULT_TIMEOUT = 10.0
MAX_RESPONSE_BYTES = 16 * 1024 * 1024
LOCK_WAIT_SECONDS = 30.0

CONFIG_DIR_MODE = 0o700
AUTH_MODE = 0o600
PLAIN_FILE_MODE = 0o644
LOCK_NAME = ".lock"

RESOLVE_ENV = "CONVOX_REFERENCE_RESOLVE"
TIMEOUT_ENV = "CONVOX_TIMEOUT"
PASSWORD_ENV = "CONVOX_PASSWORD"
CONFIG_ENV = "CONVOX_CONFIG"
CA_ENV = "SSL_CERT_FILE"

NOT_LOGGED_IN = "not logged in, try `convox login`"

USAGE = """\
convox-reference: the bundled reference Convox CLI (convox-conformance)

usage: convox <command> [args]

commands:
  login [HOST] [--password KEY | -p KEY]   log in to Console (default console.convox.com)
                                           or to a Rack directly; the key comes from the
                                           flag, CONVOX_PASSWORD, the key already stored
                                           for HOST, or a no-echo prompt
  switch [ORG/NAME | NAME]                 select the Rack Console proxies to; without an
                                           argument print the selected Rack
  racks                                    list the Racks Console gives you
  apps                                     list the apps of the current Rack
  rack                                     show the current Rack
  rack params                              show the current Rack's parameters
  rack params set KEY=VALUE...             set Rack parameters (Password=NEW rolls its key)
  logout                                   forget the current host's key
  --version                                print the version
  --help                                   print this help

files: $CONVOX_CONFIG or ~/.convox: host, auth (JSON host -> key), rack (org/name), id
environment: CONVOX_CONFIG, CONVOX_PASSWORD, CONVOX_TIMEOUT (seconds, default 10),
             SSL_CERT_FILE (CA bundle to verify against), CONVOX_REFERENCE_RESOLVE
             (name:port=ip:port;...;*=ip:port, like curl --resolve)
"""


# --------------------------------------------------------------------------- errors


class CliError(Exception):
    """A failure the user should see as one ``ERROR: ...`` line and exit status 1."""


class NotLoggedIn(CliError):
    """Raised before any request when ``host`` or its key in ``auth`` is missing."""

    def __init__(self, message: str = NOT_LOGGED_IN) -> None:
        super().__init__(message)


class TransportError(CliError):
    """The network, TLS or HTTP framing failed: the server's answer is unknown."""


# The keys seen during this invocation, so no error line can ever show one.
_SECRETS: set[str] = set()


MIN_REDACTED_LENGTH = 6
"""Shorter "keys" are not redacted: hiding every "n" would garble the message and
a key that short is no secret anyway (real keys are 32+ random characters)."""


def remember_secret(key: str | None) -> None:
    """Register a key so :func:`redact` hides it from every error line."""
    if key and len(key) >= MIN_REDACTED_LENGTH:
        _SECRETS.add(key)


def redact(text: str) -> str:
    """Replace every key seen in this invocation by ``********``.

    Error text can come from anywhere (servers, exceptions); the key must never
    be printed, so this is the last filter before stderr.
    """
    for secret in sorted(_SECRETS, key=len, reverse=True):
        if secret and secret in text:
            text = text.replace(secret, "********")
    return text


# --------------------------------------------------------------------------- output


def out(text: str) -> None:
    """Print one result line on stdout (kept separate so tests can see all output)."""
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def report_error(message: str) -> None:
    """Print ``ERROR: message`` as exactly one line on stderr, keys redacted."""
    line = " ".join(redact(str(message)).split()) or "unknown error"
    try:
        sys.stderr.write(f"ERROR: {line}\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


def format_table(headers: list[str], rows: list[list[str]]) -> str:
    """Left-aligned columns separated by two spaces, like the real CLI's tables."""
    table = [headers, *rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(headers))]
    lines = []
    for row in table:
        cells = [cell.ljust(widths[i]) for i, cell in enumerate(row)]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def text_of(value: object) -> str:
    """Render a JSON scalar for a table cell (missing values print as empty)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# --------------------------------------------------------------------------- files


def config_dir() -> str:
    """``$CONVOX_CONFIG`` if set, else ``~/.convox``: the classic CLI's layout."""
    configured = os.environ.get(CONFIG_ENV, "")
    if configured:
        return configured
    return os.path.join(os.path.expanduser("~"), ".convox")


def config_path(name: str) -> str:
    """Path of one file (``host``, ``auth``, ``rack``, ``id``) in the config dir."""
    return os.path.join(config_dir(), name)


def read_text(path: str) -> str | None:
    """File contents, or None when it does not exist.

    Any other problem (permissions, a directory, bad UTF-8) is an error naming
    the file, because guessing would risk overwriting the user's data later.
    """
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise CliError(f"cannot read {path}: not valid UTF-8") from None


def read_host() -> str | None:
    """The host the user is logged in to (``host`` file), or None."""
    text = read_text(config_path("host"))
    if text is None:
        return None
    return text.strip() or None


def read_rack() -> str | None:
    """The selected ``org/name`` (``rack`` file), or None when nothing is selected."""
    text = read_text(config_path("rack"))
    if text is None:
        return None
    return text.strip() or None


def read_auth() -> dict[str, str]:
    """The ``auth`` file: JSON object host -> key; missing or empty means ``{}``.

    A file that is not such an object is reported (naming the file) instead of
    being treated as empty, so a later write can never destroy its keys.
    """
    import json

    path = config_path("auth")
    text = read_text(path)
    if text is None or not text.strip():
        return {}
    try:
        data = json.loads(text)
    except ValueError:
        raise CliError(f"cannot read {path}: not valid JSON; fix or remove the file") from None
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in data.items()
    ):
        raise CliError(f"cannot read {path}: expected a JSON object of host -> key")
    return data


def ensure_config_dir() -> str:
    """Create the config dir 0700 (and tighten an existing looser one) before writing.

    Keys live in it, so group/other must not even list it.
    """
    path = config_dir()
    try:
        os.makedirs(path, mode=CONFIG_DIR_MODE, exist_ok=True)
        mode = os.stat(path).st_mode & 0o777
        if mode != CONFIG_DIR_MODE:
            os.chmod(path, CONFIG_DIR_MODE)
    except OSError as exc:
        raise CliError(f"cannot create config directory {path}: {exc.strerror or exc}") from None
    return path


def atomic_write(path: str, data: bytes, mode: int) -> None:
    """Write ``path`` via a temp file in the same dir and ``os.replace``.

    Readers (and a crash) see either the old or the new file, never half of
    one; the mode is set on the temp file before any byte is written, so the
    key is never readable by others even for a moment.
    """
    directory = os.path.dirname(path) or "."
    base = os.path.basename(path)
    tmp = os.path.join(directory, f".{base}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        raise CliError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        try:
            os.fchmod(fd, mode)
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException as exc:
        discard(tmp)
        if isinstance(exc, OSError):
            raise CliError(f"cannot write {path}: {exc.strerror or exc}") from None
        raise
    sync_dir(directory)


def discard(path: str) -> None:
    """Remove a leftover temp file; failing to is not worth hiding the real error."""
    try:
        os.unlink(path)
    except OSError:
        return


def sync_dir(directory: str) -> None:
    """fsync the directory so the rename itself survives a crash (best effort)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def remove_file(path: str) -> None:
    """Delete a file; a missing file is fine (the goal state is reached)."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise CliError(f"cannot remove {path}: {exc.strerror or exc}") from None


def auth_json(auth: dict[str, str]) -> bytes:
    """Serialise ``auth`` as the classic CLI does: two-space indented JSON, UTF-8."""
    import json

    return json.dumps(auth, indent=2, ensure_ascii=False).encode("utf-8")


def write_auth(auth: dict[str, str]) -> None:
    """Replace the ``auth`` file atomically with mode 0600 (it holds every key)."""
    ensure_config_dir()
    atomic_write(config_path("auth"), auth_json(auth), AUTH_MODE)


def write_host(host: str) -> None:
    """Record the host the user is logged in to."""
    ensure_config_dir()
    atomic_write(config_path("host"), host.encode("utf-8"), PLAIN_FILE_MODE)


def write_rack(ref: str) -> None:
    """Record the selected rack as plain ``org/name``."""
    ensure_config_dir()
    atomic_write(config_path("rack"), ref.encode("utf-8"), PLAIN_FILE_MODE)


def write_id(ident: str) -> None:
    """Record the id Console returned at login (classic CLI's ``id`` file)."""
    ensure_config_dir()
    atomic_write(config_path("id"), ident.encode("utf-8"), PLAIN_FILE_MODE)


def clear_rack() -> None:
    """Forget the rack selection: it belongs to the previous login's Console."""
    remove_file(config_path("rack"))


def remove_host() -> None:
    """Delete the ``host`` file (logout)."""
    remove_file(config_path("host"))


class FileLock:
    """Exclusive ``flock`` on ``<config dir>/.lock`` for read-modify-write cycles.

    Without it two concurrent logins both read ``auth``, each adds its host and
    the second rename drops the first login's key.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self.fd: int | None = None

    def __enter__(self) -> FileLock:
        import fcntl
        import time

        ensure_config_dir()
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise CliError(f"cannot open lock file {self.path}: {exc.strerror or exc}") from None
        deadline = time.monotonic() + LOCK_WAIT_SECONDS
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    os.close(fd)
                    raise CliError(
                        f"timed out waiting for lock {self.path} held by another convox process"
                    ) from None
                time.sleep(0.005)
            except OSError as exc:
                os.close(fd)
                raise CliError(f"cannot lock {self.path}: {exc.strerror or exc}") from None
        self.fd = fd
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.fd is not None:
            os.close(self.fd)  # closing the descriptor releases the flock
            self.fd = None


def locked() -> FileLock:
    """The exclusive config-dir lock (use as ``with locked(): ...``)."""
    return FileLock(config_path(LOCK_NAME))


# --------------------------------------------------------------------------- state


class State:
    """What the files say right now: host, its key, selected rack.

    Built fresh on every invocation from the files (no cache), so an external
    logout or login is honoured immediately.
    """

    __slots__ = ("host", "key", "rack")

    def __init__(self, host: str | None, key: str | None, rack: str | None) -> None:
        self.host = host
        self.key = key
        self.rack = rack


def current_state() -> State:
    """Read ``host``, then its key from ``auth``, then ``rack``."""
    host = read_host()
    key = None
    if host is not None:
        key = read_auth().get(host) or None
    remember_secret(key)
    return State(host, key, read_rack())


def require_login(state: State) -> tuple[str, str]:
    """(host, key) or :class:`NotLoggedIn`: checked before any request is built."""
    if not state.host or not state.key:
        raise NotLoggedIn()
    return state.host, state.key


# --------------------------------------------------------------------------- hosts


def normalize_host(raw: str) -> str:
    """The host as typed, scheme and trailing slash stripped (``name[:port]``)."""
    host = raw.strip()
    lowered = host.lower()
    for scheme in ("https://", "http://"):
        if lowered.startswith(scheme):
            host = host[len(scheme) :]
            break
    host = host.rstrip("/")
    if not host or any(ch in host for ch in "/@?# \t\r\n") or host.startswith("-"):
        raise CliError(f"invalid host: {raw!r}")
    split_host(host)  # validates the port
    return host


def split_host(host: str) -> tuple[str, int]:
    """``name[:port]`` (or ``[v6]:port``) -> (name, port); no port means 443."""
    name, port_text = host, ""
    if host.startswith("["):
        end = host.find("]")
        if end < 0:
            raise CliError(f"invalid host: {host}")
        name, rest = host[1:end], host[end + 1 :]
        if rest:
            if not rest.startswith(":"):
                raise CliError(f"invalid host: {host}")
            port_text = rest[1:]
    elif host.count(":") == 1:
        name, port_text = host.split(":")
    if not name:
        raise CliError(f"invalid host: {host}")
    if port_text == "" and host.endswith(":"):
        raise CliError(f"invalid port in host: {host}")
    if port_text:
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise CliError(f"invalid port in host: {host}")
        return name, int(port_text)
    return name, 443


def parse_resolve_map(text: str) -> dict[str, tuple[str, int]]:
    """Parse ``name:port=ip:port;...;*=ip:port`` (the suite's curl-like ``--resolve``)."""
    mapping: dict[str, tuple[str, int]] = {}
    for raw_entry in text.split(";"):
        entry = raw_entry.strip()
        if not entry:
            continue
        left, sep, right = entry.partition("=")
        if not sep:
            raise CliError(f"invalid {RESOLVE_ENV} entry: {entry}")
        left = left.strip()
        if left != "*":
            name, port = split_host(left)
            left = f"{name.lower()}:{port}"
        target_name, target_port = split_host(right.strip())
        mapping[left] = (target_name, target_port)
    return mapping


def resolve_address(name: str, port: int) -> tuple[str, int] | None:
    """The address to connect to instead of (name, port), from ``$CONVOX_REFERENCE_RESOLVE``.

    None means "resolve normally".  The original name is still used for SNI,
    certificate checks and ``Host``, so ``console.convox.com`` can be a loopback fake.
    Like a DNS override, ``*`` only catches names that need resolving: an IP
    literal or ``localhost`` is already an address on this machine (that is how
    the fakes are given to the CLI), so it is reached directly unless listed.
    """
    text = os.environ.get(RESOLVE_ENV, "")
    if not text.strip():
        return None
    mapping = parse_resolve_map(text)
    exact = mapping.get(f"{name.lower()}:{port}")
    if exact is not None:
        return exact
    if is_local_address(name):
        return None
    return mapping.get("*")


def is_local_address(name: str) -> bool:
    """True for IP literals and ``localhost``: nothing there to resolve."""
    import ipaddress

    if name.lower().rstrip(".") == "localhost":
        return True
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


# --------------------------------------------------------------------------- HTTP


class Response:
    """A fully read HTTP response (the body is read before the connection closes)."""

    __slots__ = ("body", "headers", "reason", "status")

    def __init__(self, status: int, reason: str, headers: dict[str, str], body: bytes) -> None:
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body


def request_timeout() -> float:
    """Seconds allowed per request (``$CONVOX_TIMEOUT``, default 10): never hang."""
    text = os.environ.get(TIMEOUT_ENV, "").strip()
    if not text:
        return DEFAULT_TIMEOUT
    try:
        value = float(text)
    except ValueError:
        raise CliError(f"invalid {TIMEOUT_ENV}: {text!r} (seconds expected)") from None
    if not value > 0 or value != value or value == float("inf"):
        raise CliError(f"invalid {TIMEOUT_ENV}: {text!r} (positive seconds expected)")
    return value


def tls_context() -> ssl.SSLContext:
    """A verifying TLS client context; ``$SSL_CERT_FILE`` replaces the system CAs.

    Real Convox CLIs skip verification; the reference does not copy that.
    """
    import ssl

    cafile = os.environ.get(CA_ENV) or None
    try:
        context = ssl.create_default_context(cafile=cafile)
    except (OSError, ssl.SSLError) as exc:
        raise CliError(f"cannot load CA bundle {CA_ENV}={cafile}: {exc}") from None
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def basic_auth_header(key: str) -> str:
    """``Basic base64("convox:" + key)``: the key's UTF-8 bytes exactly, never escaped."""
    import base64

    try:
        raw = key.encode("utf-8")
    except UnicodeEncodeError:
        raise CliError("the key is not valid UTF-8") from None
    return "Basic " + base64.b64encode(b"convox:" + raw).decode("ascii")


def user_agent() -> str:
    """Identify the reference CLI honestly (real CLIs send ``convox.go/<version>``)."""
    return f"convox-reference/{VERSION}"


def request_headers(key: str, rack: str | None, content_type: str | None = None) -> dict[str, str]:
    """Headers of every request: auth, Version, User-Agent and ``Rack`` when selected.

    The ``Rack`` header is how Console knows which rack to proxy to.
    """
    headers = {
        "Authorization": basic_auth_header(key),
        "Version": VERSION,
        "User-Agent": user_agent(),
        "Accept": "application/json",
    }
    if rack:
        headers["Rack"] = rack
    if content_type:
        headers["Content-Type"] = content_type
    return headers


def open_connection(host: str, timeout: float) -> http.client.HTTPSConnection:
    """An ``HTTPSConnection`` to ``host`` (HTTPS only), honouring the resolve map."""
    import http.client
    import socket

    name, port = split_host(host)
    context = tls_context()
    conn = http.client.HTTPSConnection(name, port, timeout=timeout, context=context)
    target = resolve_address(name, port)
    if target is not None:

        def create_connection(
            address: tuple[str, int],
            timeout: float | None = None,
            source_address: tuple[str, int] | None = None,
        ) -> socket.socket:
            return socket.create_connection(target, timeout, source_address)

        conn._create_connection = create_connection  # type: ignore[attr-defined]
    return conn


def describe_transport_error(exc: BaseException, host: str, timeout: float) -> str:
    """One readable line for a network/TLS/framing failure (no traceback, no key)."""
    import http.client
    import ssl

    if isinstance(exc, ssl.SSLCertVerificationError):
        detail = exc.verify_message or exc.reason or "verification failed"
        return f"TLS certificate of {host} could not be verified: {detail}"
    if isinstance(exc, ssl.SSLError):
        return f"TLS error talking to {host}: {exc.reason or exc}"
    if isinstance(exc, TimeoutError):
        return f"timed out after {timeout:g}s talking to {host}"
    if isinstance(exc, http.client.IncompleteRead):
        return f"truncated response from {host}"
    if isinstance(exc, http.client.HTTPException):
        return f"invalid HTTP response from {host}: {type(exc).__name__} {exc}".strip()
    if isinstance(exc, ConnectionRefusedError):
        return f"cannot connect to {host}: connection refused"
    if isinstance(exc, OSError):
        return f"network error talking to {host}: {exc.strerror or exc}"
    if isinstance(exc, UnicodeError):
        return f"invalid host: {host}"
    return f"request to {host} failed: {type(exc).__name__}"


def read_body(resp: http.client.HTTPResponse, deadline: float, host: str) -> bytes:
    """Read the whole body within the deadline; a short body is an error, not data."""
    import time

    chunks: list[bytes] = []
    size = 0
    while True:
        if time.monotonic() > deadline:
            raise TimeoutError()
        chunk = resp.read(65536)
        if not chunk:
            break
        size += len(chunk)
        if size > MAX_RESPONSE_BYTES:
            raise TransportError(f"response from {host} is too large")
        chunks.append(chunk)
    if resp.length:
        raise TransportError(f"truncated response from {host}")
    return b"".join(chunks)


def send_request(
    host: str,
    key: str,
    method: str,
    path: str,
    rack: str | None = None,
    body: bytes | None = None,
    content_type: str | None = None,
) -> Response:
    """One HTTPS request to ``https://<host><path>``; any transport failure -> TransportError."""
    import time

    timeout = request_timeout()
    headers = request_headers(key, rack, content_type)
    deadline = time.monotonic() + timeout
    conn = open_connection(host, timeout)
    try:
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        data = read_body(resp, deadline, host)
        response_headers = {k.lower(): v for k, v in resp.getheaders()}
        return Response(resp.status, resp.reason or "", response_headers, data)
    except CliError:
        raise
    except Exception as exc:
        raise TransportError(describe_transport_error(exc, host, timeout)) from None
    finally:
        conn.close()


def error_message(resp: Response) -> str:
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
        return first_line[:500]
    return f"response status {resp.status} {resp.reason}".strip()


def check_response(resp: Response, host: str) -> None:
    """Raise for anything but 2xx; a 401 points the user at ``convox login <host>``."""
    if 200 <= resp.status < 300:
        return
    if resp.status == 401:
        raise CliError(
            f"{host} rejected the key (401 unauthorized: {error_message(resp)}); "
            f"log in again with `convox login {host}`"
        )
    raise CliError(error_message(resp))


def parse_json(resp: Response, host: str, allow_empty: bool = False) -> object:
    """Decode a JSON body; malformed JSON is an error, never half-trusted data."""
    import json

    if not resp.body.strip():
        if allow_empty:
            return {}
        raise CliError(f"invalid response from {host}: empty body")
    try:
        return json.loads(resp.body.decode("utf-8"))
    except ValueError:
        raise CliError(f"invalid response from {host}: malformed JSON") from None


def api(
    state: State,
    method: str,
    path: str,
    body: bytes | None = None,
    content_type: str | None = None,
) -> object:
    """A logged-in request to the current host (with ``Rack`` if selected) -> JSON."""
    host, key = require_login(state)
    resp = send_request(host, key, method, path, state.rack, body, content_type)
    check_response(resp, host)
    return parse_json(resp, host, allow_empty=method != "GET")


# --------------------------------------------------------------------------- login


def parse_login_args(args: list[str]) -> tuple[str | None, str | None]:
    """``[HOST] [--password KEY | -p KEY | --password=KEY]`` -> (host, key)."""
    host: str | None = None
    key: str | None = None
    options = True
    i = 0
    while i < len(args):
        arg = args[i]
        if options and arg == "--":
            options = False
        elif options and arg in ("--password", "-p"):
            if i + 1 >= len(args):
                raise CliError(f"{arg} needs a value")
            key = args[i + 1]
            i += 1
        elif options and (arg.startswith("--password=") or arg.startswith("-p=")):
            key = arg.split("=", 1)[1]
        elif options and arg.startswith("-") and arg != "-":
            raise CliError(f"unknown option for login: {arg}")
        elif host is None:
            host = arg
        else:
            raise CliError(f"login takes one host, got another: {arg}")
        i += 1
    return host, key


def prompt_password(prompt: str = "Password: ") -> str | None:
    """Ask on the terminal (``/dev/tty``) with echo off; None when there is no terminal.

    Reading the controlling terminal (not stdin) is what ``getpass`` does; doing
    it here means there is never an echoing fallback.
    """
    try:
        fd = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY)
    except OSError:
        return None
    import termios

    data = b""
    try:
        try:
            old = termios.tcgetattr(fd)
        except termios.error:
            return None
        new = list(old)
        new[3] = new[3] & ~termios.ECHO
        termios.tcsetattr(fd, termios.TCSADRAIN, new)
        try:
            os.write(fd, prompt.encode("utf-8"))
            while not data.endswith(b"\n"):
                chunk = os.read(fd, 4096)
                if not chunk:
                    break
                data += chunk
        finally:
            termios.tcsetattr(fd, termios.TCSADRAIN, old)
            os.write(fd, b"\n")
    finally:
        os.close(fd)
    try:
        line = data.decode("utf-8")
    except UnicodeDecodeError:
        raise CliError("the key typed at the prompt is not valid UTF-8") from None
    if line.endswith("\n"):
        line = line[:-1]
    if line.endswith("\r"):
        line = line[:-1]
    return line


def decode_key(value: str) -> str:
    """The key's exact UTF-8 text from argv or the environment, whatever the locale.

    Python decodes argv/env with the locale's encoding; going back to the raw
    bytes and decoding them as UTF-8 keeps a non-ASCII key byte-exact.
    """
    try:
        raw = os.fsencode(value)
    except UnicodeEncodeError:
        return value
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise CliError("the key is not valid UTF-8") from None


def resolve_login_key(host: str, flag_key: str | None, stored: dict[str, str]) -> str:
    """Key precedence: flag, ``$CONVOX_PASSWORD``, key stored for host, prompt."""
    if flag_key is not None:
        if not flag_key:
            raise CliError("--password is empty")
        return decode_key(flag_key)
    env_key = os.environ.get(PASSWORD_ENV, "")
    if env_key:
        return decode_key(env_key)
    if stored.get(host):
        return stored[host]
    typed = prompt_password("Password: ")
    if typed is None:
        raise CliError(
            f"no key for {host}: pass --password KEY or set {PASSWORD_ENV} "
            "(there is no terminal to prompt on)"
        )
    if not typed:
        raise CliError("no key entered")
    return typed


def validate_login(host: str, key: str) -> str:
    """``GET /auth`` with the key before anything is written; returns the id (or "")."""
    resp = send_request(host, key, "GET", "/auth")
    if resp.status == 401:
        raise CliError(
            f"invalid login: {host} rejected the key; check it and run `convox login {host}` again"
        )
    check_response(resp, host)
    return login_id(resp.body)


def login_id(body: bytes) -> str:
    """The id in a ``/auth`` answer, or "": any 200 means the key was accepted.

    Racks answer ``/auth`` with text (``ok`` today, ``{"success":true}`` in
    2017, ``OK`` before), so only a JSON object that has an id yields one.
    """
    import json

    try:
        data = json.loads(body.decode("utf-8"))
    except ValueError:
        return ""
    ident = data.get("id") if isinstance(data, dict) else None
    if ident is None or isinstance(ident, (dict, list, bool)):
        return ""
    return str(ident)


def store_login(host: str, key: str, ident: str) -> None:
    """Under the lock: add host -> key to ``auth`` (others kept), write ``host``,
    clear the rack selection, write ``id`` when Console returned one."""
    with locked():
        auth = read_auth()
        auth[host] = key
        write_auth(auth)
        write_host(host)
        clear_rack()
        if ident:
            write_id(ident)


def login_success_message(host: str) -> str:
    """The one success line (the classic CLI's wording)."""
    return "Logged in successfully."


def cmd_login(args: list[str]) -> int:
    """``login [HOST] [--password KEY]``: validate first, then store; never print the key."""
    host_arg, flag_key = parse_login_args(args)
    host = normalize_host(host_arg if host_arg is not None else DEFAULT_HOST)
    remember_secret(flag_key)
    stored = read_auth()  # a corrupt auth fails here, before any request
    key = resolve_login_key(host, flag_key, stored)
    remember_secret(key)
    ident = validate_login(host, key)
    store_login(host, key, ident)
    out(login_success_message(host))
    return 0


# --------------------------------------------------------------------------- racks


def fetch_racks(state: State, command: str = "switch") -> list[dict[str, object]]:
    """``GET /racks`` on the current host; a Rack answers 404: Console only."""
    host, key = require_login(state)
    resp = send_request(host, key, "GET", "/racks", state.rack)
    if resp.status == 404:
        raise CliError(f"{command} needs a Console login; {host} is a Rack")
    check_response(resp, host)
    data = parse_json(resp, host)
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise CliError(f"invalid response from {host}: expected a JSON list of racks")
    return data


def rack_ref(item: dict[str, object]) -> str:
    """``org/name`` of one ``GET /racks`` entry."""
    name = text_of(item.get("name"))
    org = item.get("organization")
    org_name = text_of(org.get("name")) if isinstance(org, dict) else text_of(org)
    return f"{org_name}/{name}" if org_name else name


def rack_refs(racks: list[dict[str, object]]) -> list[str]:
    """Every listed rack as ``org/name``, in Console's order, without duplicates."""
    refs: list[str] = []
    for item in racks:
        ref = rack_ref(item)
        if ref and ref not in refs:
            refs.append(ref)
    return refs


def match_rack(refs: list[str], wanted: str) -> str:
    """Exact ``org/name``, or a bare name matching exactly one listed rack."""
    if "/" in wanted:
        if wanted in refs:
            return wanted
        matches: list[str] = []
    else:
        matches = [ref for ref in refs if ref.rsplit("/", 1)[-1] == wanted]
        if len(matches) == 1:
            return matches[0]
    if len(matches) > 1:
        raise CliError(f"ambiguous rack name: {wanted} (matches {', '.join(matches)})")
    hint = f"try one of: {', '.join(refs)}" if refs else "no racks are available"
    raise CliError(f"rack not found: {wanted} ({hint})")


def select_rack(ref: str) -> None:
    """Write the ``rack`` file under the lock; ``host`` and ``auth`` are never touched."""
    with locked():
        write_rack(ref)


def cmd_switch(args: list[str]) -> int:
    """``switch [ORG/NAME | NAME]``; without a name print the selection."""
    if any(arg.startswith("-") for arg in args) or len(args) > 1:
        raise CliError("usage: convox switch [ORG/NAME | NAME]")
    if not args:
        return cmd_current_rack()
    state = current_state()
    refs = rack_refs(fetch_racks(state, "switch"))
    ref = match_rack(refs, args[0])
    select_rack(ref)
    out(f"Switched to {ref}")
    return 0


def cmd_current_rack() -> int:
    """Print the selected rack; none selected is an error with a hint (classic CLI)."""
    rack = read_rack()
    if rack is None:
        raise CliError("no rack selected; run `convox switch ORG/NAME` after logging in to Console")
    out(rack)
    return 0


def cmd_racks(args: list[str]) -> int:
    """``racks``: the racks Console lists for this key."""
    if args:
        raise CliError("usage: convox racks")
    racks = fetch_racks(current_state(), "racks")
    if not racks:
        out("no racks")
        return 0
    rows = [[rack_ref(item), text_of(item.get("status"))] for item in racks]
    out(format_table(["RACK", "STATUS"], rows))
    return 0


def cmd_apps(args: list[str]) -> int:
    """``apps``: the apps of the current rack (directly or through Console)."""
    if args:
        raise CliError("usage: convox apps")
    state = current_state()
    data = api(state, "GET", "/apps")
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise CliError(f"invalid response from {state.host}: expected a JSON list of apps")
    if not data:
        out("no apps")
        return 0
    rows = [
        [text_of(a.get("name")), text_of(a.get("status")), text_of(a.get("release"))] for a in data
    ]
    out(format_table(["APP", "STATUS", "RELEASE"], rows))
    return 0


def fetch_system(state: State) -> dict[str, object]:
    """``GET /system``: the rack's description (name, status, version, parameters)."""
    data = api(state, "GET", "/system")
    if not isinstance(data, dict):
        raise CliError(f"invalid response from {state.host}: expected a JSON object")
    return data


def cmd_rack(args: list[str]) -> int:
    """``rack``: system information of the current rack."""
    if args:
        raise CliError("usage: convox rack | rack params | rack params set KEY=VALUE...")
    state = current_state()
    system = fetch_system(state)
    rows = []
    for field in ("name", "status", "version", "region", "type", "count"):
        if field in system:
            rows.append([field.capitalize(), text_of(system[field])])
    if state.rack:
        rows.insert(0, ["Rack", state.rack])
    if not rows:
        out("(no system information)")
        return 0
    for label, value in rows:
        out(f"{label.ljust(8)}  {value}".rstrip())
    return 0


def cmd_rack_params(args: list[str]) -> int:
    """``rack params``: the rack's parameters from ``GET /system``."""
    if args:
        raise CliError("usage: convox rack params")
    params = fetch_system(current_state()).get("parameters")
    if not isinstance(params, dict) or not params:
        out("no parameters")
        return 0
    width = max(len(str(k)) for k in params)
    for name in sorted(params):
        shown = "********" if name == "Password" else text_of(params[name])
        out(f"{str(name).ljust(width)}  {shown}".rstrip())
    return 0


def parse_params(args: list[str]) -> list[tuple[str, str]]:
    """``KEY=VALUE`` arguments -> pairs; ``Password=`` must not be empty."""
    if not args:
        raise CliError("usage: convox rack params set KEY=VALUE...")
    pairs: list[tuple[str, str]] = []
    for arg in args:
        name, sep, value = arg.partition("=")
        if not sep or not name:
            raise CliError("parameters must look like KEY=VALUE")
        if name == "Password":
            remember_secret(value)
            if not value:
                raise CliError("Password must not be empty")
        pairs.append((name, value))
    return pairs


def encode_params(pairs: list[tuple[str, str]]) -> bytes:
    """Form body ``parameters=<urlencoded K=V pairs>`` (``parameters=Password%3DNEW``)."""
    from urllib.parse import urlencode

    inner = urlencode(sorted(pairs))
    return urlencode({"parameters": inner}).encode("ascii")


def rolls_own_key(state: State) -> bool:
    """True when logged in to the rack itself (no Console rack selected): then the
    new Password is this host's key and must be stored or the user is locked out."""
    return not state.rack


def store_rolled_key(host: str, key: str) -> None:
    """Under the lock: replace host's key in ``auth`` with the new rack key."""
    with locked():
        auth = read_auth()
        auth[host] = key
        write_auth(auth)


def cmd_rack_params_set(args: list[str]) -> int:
    """``rack params set KEY=VALUE...``: ``PUT /system``; keep ``auth`` usable after a
    direct key roll (a lost rack key cannot be recovered)."""
    pairs = parse_params(args)
    state = current_state()
    host, _key = require_login(state)
    new_key = dict(pairs).get("Password")
    own = new_key is not None and rolls_own_key(state)
    try:
        api(state, "PUT", "/system", encode_params(pairs), "application/x-www-form-urlencoded")
    except TransportError as exc:
        if own:
            raise TransportError(
                f"{exc}; the rack may already use the new Password: if `convox apps` "
                f"fails, run `convox login {host} --password <new password>`"
            ) from None
        raise
    if own and new_key is not None:
        store_rolled_key(host, new_key)
    out("Updating parameters... OK")
    return 0


# --------------------------------------------------------------------------- logout


def remove_login(host: str) -> None:
    """Under the lock: drop host's key from ``auth`` (others kept), delete ``host``
    and the rack selection."""
    with locked():
        auth = read_auth()
        auth.pop(host, None)
        write_auth(auth)
        remove_host()
        clear_rack()


def cmd_logout(args: list[str]) -> int:
    """``logout``: forget the current host's key; not logged in changes nothing."""
    if args:
        raise CliError("usage: convox logout")
    state = current_state()
    if not state.host or not state.key:
        raise NotLoggedIn("not logged in, nothing to log out of (try `convox login`)")
    remove_login(state.host)
    out(f"Logged out of {state.host}.")
    return 0


# --------------------------------------------------------------------------- main


def silence_stdout() -> None:
    """stdout's reader went away: point it at /dev/null so the interpreter's final
    flush cannot print a traceback either."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        return


def cmd_help(args: list[str]) -> int:
    """Print the usage text."""
    sys.stdout.write(USAGE)
    sys.stdout.flush()
    return 0


def cmd_version(args: list[str]) -> int:
    """Print the version (the same string sent as the ``Version`` header)."""
    out(f"convox-reference {VERSION}")
    return 0


def dispatch(args: list[str]) -> int:
    """Route argv to a ``cmd_*`` function, looked up by name at call time."""
    if not args or args[0] in ("--help", "-h", "help"):
        return cmd_help(args[1:])
    command, rest = args[0], args[1:]
    if command in ("--version", "-v", "version"):
        return cmd_version(rest)
    if rest and rest[0] in ("--help", "-h") and command != "login":
        return cmd_help(rest)
    if command == "login":
        if rest[:1] in (["--help"], ["-h"]):
            return cmd_help(rest)
        return cmd_login(rest)
    if command == "switch":
        return cmd_switch(rest)
    if command == "racks":
        return cmd_racks(rest)
    if command == "apps":
        return cmd_apps(rest)
    if command == "rack":
        if rest[:2] == ["params", "set"]:
            return cmd_rack_params_set(rest[2:])
        if rest[:1] == ["params"]:
            return cmd_rack_params(rest[1:])
        return cmd_rack(rest)
    if command == "logout":
        return cmd_logout(rest)
    raise CliError(f"unknown command: {command} (see `convox --help`)")


def main(argv: list[str] | None = None) -> int:
    """Entry point: run one command; every failure is one ``ERROR:`` line and status 1.

    No traceback ever reaches the user: they leak internals and, worse, could
    show a key.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    _SECRETS.clear()
    try:
        return dispatch(args)
    except CliError as exc:
        report_error(str(exc))
    except KeyboardInterrupt:
        report_error("interrupted")
    except BrokenPipeError:
        silence_stdout()
    except Exception as exc:
        report_error(f"unexpected error: {type(exc).__name__}: {exc}")
    return 1
