"""Builds the adapters from Settings and closes them: the only place that does either.

The CLI and the Lambda handler both come through here, so they cannot drift
apart, and tests build the same objects with loopback settings. The adapters
themselves take explicit values (keys, URLs, paths), never a Settings.

A command holds what it built in a `with`: `cycle_ports`, `booking_store`,
`session_store`, `authenticator`. On leaving it every connection and client
built here is closed, also when building stopped half-way (a refused SENS
configuration must not leave a store connection open behind its error line).
"""

from __future__ import annotations

import functools
import os
import weakref
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TypeVar

from naver_sms import config as _config
from naver_sms.config import (
    AppConfig,
    ConfigError,
    Settings,
    load_app_config,
    require_alimtalk_service,
)
from naver_sms.database.base import BookingRepositoryPort, SessionRepositoryPort

if TYPE_CHECKING:
    import httpx

    from naver_sms.cycle import CyclePorts
    from naver_sms.messaging.base import Notifier, SmsSender
    from naver_sms.messaging.sens import SensSender
    from naver_sms.naver.auth import Authenticator, BrowserFactory
    from naver_sms.naver.booking_api import BookingApi
    from naver_sms.web.model import OwnerPort

_T = TypeVar("_T")


# --- Settings and the Secrets Manager secret ------------------------------------------------


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """`config.load_settings` with the Secrets Manager reader: what every entry point uses."""
    return _config.load_settings(environ, read_secret=read_secret)


@functools.cache
def read_secret(secret_id: str, region: str, endpoint_url: str | None) -> str:
    """The secret's string, asked of AWS once per process; ConfigError naming the secret.

    Cached: a Lambda reads it on its cold start, not every cycle. A failure is
    not cached, so the next invocation asks again.
    """
    # Lazily imported: only deployments that name a secret pay for boto3 here.
    import boto3  # noqa: PLC0415
    from botocore.config import Config  # noqa: PLC0415
    from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

    where = f"secret {secret_id!r} (NAVER_SMS_SECRET_ID)"
    client = boto3.session.Session().client(
        "secretsmanager",
        region_name=region,
        endpoint_url=endpoint_url,
        config=Config(
            retries={"mode": "standard", "total_max_attempts": 3},
            connect_timeout=3,
            read_timeout=10,
        ),
    )
    try:
        response = client.get_secret_value(SecretId=secret_id)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "Unknown")
        if code == "ResourceNotFoundException":
            # The template creates the secret empty: it has no value until filled.
            raise ConfigError(
                f"{where}: not found, or it has no value yet: put one with "
                "aws secretsmanager put-secret-value (docs/deploy.md, step 4)"
            ) from None
        raise ConfigError(f"{where}: cannot be read ({code})") from None
    except BotoCoreError as exc:
        raise ConfigError(f"{where}: cannot be read ({type(exc).__name__})") from None
    finally:
        client.close()
    text = response.get("SecretString")
    if text is None:
        raise ConfigError(f"{where}: holds no SecretString (a binary secret?)")
    return str(text)


# --- Closing ----------------------------------------------------------------------------------


def _closed_with(stack: ExitStack, adapter: _T) -> _T:
    """`adapter`, closed when `stack` closes if it has a `close()` (fakes need none)."""
    close: Callable[[], object] | None = getattr(adapter, "close", None)
    if callable(close):
        stack.callback(close)
    return adapter


# --- The stores -------------------------------------------------------------------------------


# The DynamoDB client of each open ExitStack: a command's records and session
# repositories share one. Each client is its own botocore session, service model
# and endpoint data, about 10 MB of a cycle's peak (issue 18); a low-level client
# is thread-safe. Weak keys: a closed stack's entry goes with it.
_DYNAMODB_CLIENTS: Final[weakref.WeakKeyDictionary[ExitStack, Any]] = weakref.WeakKeyDictionary()


def _dynamodb_client(settings: Settings, stack: ExitStack) -> Any:
    """The stack's DynamoDB client, made on first use and closed with the stack."""
    client = _DYNAMODB_CLIENTS.get(stack)
    if client is None:
        from naver_sms.database.dynamodb_client import make_client  # noqa: PLC0415 - boto3 is slow to import

        client = make_client(
            region_name=settings.aws_region, endpoint_url=settings.aws_endpoint_url
        )
        # The repositories do not own the client they are given: its connection pool is ours.
        _DYNAMODB_CLIENTS[stack] = _closed_with(stack, client)
    return client


def _booking_repository(settings: Settings, stack: ExitStack) -> BookingRepositoryPort:
    if settings.store == "dynamodb":
        from naver_sms.database.dynamodb_client import BookingRepository  # noqa: PLC0415

        return BookingRepository(
            table_name=settings.bookings_table,
            client=_dynamodb_client(settings, stack),
            sent_table_name=settings.sent_table,
        )
    from naver_sms.database.sqlite_repository import SqliteBookingRepository  # noqa: PLC0415

    store = SqliteBookingRepository(settings.db_path)
    return _closed_with(stack, store)


def _session_repository(settings: Settings, stack: ExitStack) -> SessionRepositoryPort:
    if settings.store == "dynamodb":
        from naver_sms.database.dynamodb_client import SessionRepository  # noqa: PLC0415

        return SessionRepository(
            table_name=settings.session_table, client=_dynamodb_client(settings, stack)
        )
    from naver_sms.database.sqlite_repository import SqliteSessionRepository  # noqa: PLC0415

    store = SqliteSessionRepository(settings.db_path)
    return _closed_with(stack, store)


def require_stored_data(settings: Settings) -> None:
    """ConfigError when a command that only reads would find no SQLite file: opening it
    would create an empty database where the owner expected their records."""
    if settings.store == "sqlite" and not Path(settings.db_path).exists():
        raise ConfigError(
            f"no database at {settings.db_path}: nothing has been stored there yet "
            "(a cycle or `naver-sms create-tables` makes it), or NAVER_SMS_DB should "
            "name the file the cycles use"
        )


@contextmanager
def booking_repository(settings: Settings) -> Iterator[BookingRepositoryPort]:
    """The records' repository (SQLite file or DynamoDB table), closed on leaving."""
    with ExitStack() as stack:
        yield _booking_repository(settings, stack)


@contextmanager
def session_repository(
    settings: Settings, *, stack: ExitStack | None = None
) -> Iterator[SessionRepositoryPort]:
    """The session's repository (SQLite file or DynamoDB table), closed on leaving.

    `stack`: build into the caller's stack instead (closed with it), so what a
    long-running process builds there shares one DynamoDB client.
    """
    with ExitStack() as own:
        yield _session_repository(settings, stack or own)


def create_tables(settings: Settings) -> list[str]:
    """Create the store's tables (idempotent); the names of those it created or found."""
    if settings.store == "dynamodb":
        from naver_sms.database.dynamodb_client import create_tables as create  # noqa: PLC0415

        with ExitStack() as stack:
            return create(
                _dynamodb_client(settings, stack),
                bookings_table=settings.bookings_table,
                session_table=settings.session_table,
                sent_table=settings.sent_table,
            )
    from naver_sms.database.sqlite_repository import create_schema  # noqa: PLC0415

    return create_schema(settings.db_path)


# --- Naver ------------------------------------------------------------------------------------


def build_booking_api(settings: Settings, client: httpx.Client | None = None) -> BookingApi:
    """The partner booking API client at NAVER_BOOKING_URL (a sandbox's base URL in tests)."""
    from naver_sms.naver.booking_api import BookingApi  # noqa: PLC0415 - httpx only when used

    return BookingApi(
        settings.naver_booking_url,
        client=client,
        multi_status=settings.naver_multi_status,
        max_requests=settings.workers,
    )


def build_browser_factory(settings: Settings) -> BrowserFactory:
    """Chromium + chromedriver from CHROME_BIN / CHROMEDRIVER_BIN or PATH; never downloaded."""
    from naver_sms.naver.auth import chromium_factory  # noqa: PLC0415

    return chromium_factory(settings.chrome_bin, settings.chromedriver_bin)


def build_authenticator(
    settings: Settings,
    *,
    session_repository: SessionRepositoryPort,
    booking_api: BookingApi,
    browser_factory: BrowserFactory | None = None,
) -> Authenticator:
    """The session lifecycle: stored cookies, checked; a browser login only when they fail.

    The caller owns (and closes) `session_repository` and `booking_api`; `authenticator`
    builds and closes both.
    """
    from naver_sms.naver.auth import Authenticator  # noqa: PLC0415 - Selenium stays unimported

    return Authenticator(
        session_repository,
        booking_api,
        browser_factory=browser_factory or build_browser_factory(settings),
        login_url=settings.naver_login_url,
        booking_url=settings.naver_booking_url,
        username=settings.naver_username,
        password=settings.naver_password,
    )


@contextmanager
def authenticator(settings: Settings) -> Iterator[Authenticator]:
    """An authenticator with its own session store and booking API client, closed on leaving."""
    with ExitStack() as stack:
        yield build_authenticator(
            settings,
            session_repository=_session_repository(settings, stack),
            booking_api=_closed_with(stack, build_booking_api(settings)),
        )


# --- Sending ----------------------------------------------------------------------------------


def has_sens_keys(settings: Settings) -> bool:
    return any((settings.sens_access_key, settings.sens_secret_key, settings.sens_service_id))


NO_PROVIDER: Final = (
    "no SENS keys: set SENS_ACCESS_KEY, SENS_SECRET_KEY and SENS_SERVICE_ID to send texts; "
    "`naver-sms run --dry-run` rehearses (writes the messages to the outbox file, sends none)"
)


def build_sender(settings: Settings, *, dry_run: bool = False) -> SmsSender:
    """SENS with its keys; the outbox file only in a dry run.

    No keys is a configuration error, not a quiet outbox: a run that writes
    its texts to a file while the schedule goes on would leave every customer
    untexted. Some keys but not all is one too.
    """
    access_key, secret_key, service_id = (
        settings.sens_access_key,
        settings.sens_secret_key,
        settings.sens_service_id,
    )
    keys = (access_key, secret_key, service_id)
    if any(keys) and not all(keys):
        # Checked in a dry run too: the rehearsal is where an owner finds it out.
        raise ConfigError(
            "SENS_ACCESS_KEY, SENS_SECRET_KEY and SENS_SERVICE_ID: expected all three, "
            f"{sum(map(bool, keys))} set (the SENS console shows the project's keys)"
        )
    if dry_run:
        from naver_sms.messaging.outbox import OutboxSender  # noqa: PLC0415

        check_outbox(settings.outbox_path)
        # With the keys, a rehearsal reads the real 080 list (it sends nothing).
        return OutboxSender(
            settings.outbox_path, opt_outs_from=_sens_sender(settings) if all(keys) else None
        )
    return _sens_sender(settings)


def build_alimtalk_sender(settings: Settings, config: AppConfig) -> SmsSender | None:
    """SENS's AlimTalk API when the config sends any kind as AlimTalk, else None.

    Such a config without SENS_ALIMTALK_SERVICE_ID is a configuration error:
    every AlimTalk would wait, every cycle. A rehearsal needs none (the outbox
    takes AlimTalk too).
    """
    if not config.uses_alimtalk():
        return None
    require_alimtalk_service(settings, config)
    access_key, secret_key = settings.sens_access_key, settings.sens_secret_key
    service_id = settings.sens_alimtalk_service_id
    if access_key is None or secret_key is None or service_id is None:  # the SMS keys sign it
        raise ConfigError(NO_PROVIDER)
    from naver_sms.messaging.alimtalk import AlimTalkSender  # noqa: PLC0415

    return AlimTalkSender(
        access_key=access_key,
        secret_key=secret_key,
        service_id=service_id,
        base_url=settings.sens_url,
    )


def _sens_sender(settings: Settings) -> SensSender:
    access_key, secret_key, service_id = (
        settings.sens_access_key,
        settings.sens_secret_key,
        settings.sens_service_id,
    )
    if access_key is None or secret_key is None or service_id is None:
        raise ConfigError(NO_PROVIDER)
    from naver_sms.messaging.sens import SensSender  # noqa: PLC0415

    return SensSender(
        access_key=access_key,
        secret_key=secret_key,
        service_id=service_id,
        base_url=settings.sens_url,
    )


@contextmanager
def sens(settings: Settings) -> Iterator[SensSender]:
    """SENS itself (its 080 opt-out list, for instance), closed on leaving; its keys needed."""
    with ExitStack() as stack:
        yield _closed_with(stack, _sens_sender(settings))


def check_outbox(path: Path) -> None:
    """ConfigError naming NAVER_SMS_OUTBOX when the outbox file cannot be written.

    Checked before the cycle (without creating the file) so a dry run does not
    stop half-way with some messages written and the rest lost in a traceback.
    """
    where = f"outbox file {path} (NAVER_SMS_OUTBOX)"
    # The outbox creates missing folders: the nearest existing one must take them.
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if existing == path:
        problem = "is a folder" if path.is_dir() else "is not writable"
        writable = path.is_file() and os.access(path, os.W_OK)
    else:
        problem = f"{existing} is not a writable folder"
        writable = existing.is_dir() and os.access(existing, os.W_OK | os.X_OK)
    if not writable:
        raise ConfigError(f"{where}: {problem}; set NAVER_SMS_OUTBOX to a file you can write")


def build_notifier(settings: Settings) -> Notifier:
    """Telegram with TELEGRAM_BOT_TOKEN and TELEGRAM_CHAT_ID, else a notifier that does nothing."""
    from naver_sms.messaging.base import NullNotifier  # noqa: PLC0415
    from naver_sms.messaging.telegram import TelegramNotifier  # noqa: PLC0415

    if settings.telegram_bot_token is None or not settings.telegram_chat_id:
        return NullNotifier()
    return TelegramNotifier(
        token=settings.telegram_bot_token,
        chat_id=settings.telegram_chat_id,
        base_url=settings.telegram_api_url,
    )


# --- A cycle's ports --------------------------------------------------------------------------


def _cycle_ports(
    settings: Settings, stack: ExitStack, *, dry_run: bool, config: AppConfig | None
) -> CyclePorts:
    from naver_sms.cycle import CyclePorts  # noqa: PLC0415 - keeps `bootstrap` import light

    config = config if config is not None else load_app_config(settings.config_path)
    # First: a refused sender is the likeliest failure, and then nothing else gets built.
    sender = _closed_with(stack, build_sender(settings, dry_run=dry_run))
    alimtalk = None if dry_run else _closed_with(stack, build_alimtalk_sender(settings, config))
    api = _closed_with(stack, build_booking_api(settings))
    return CyclePorts(
        config=config,
        repository=_booking_repository(settings, stack),
        booking_api=api,
        authenticator=build_authenticator(
            settings, session_repository=_session_repository(settings, stack), booking_api=api
        ),
        sender=sender,
        alimtalk=alimtalk,
        notifier=_closed_with(stack, build_notifier(settings)),
        dry_run=dry_run,
        workers=settings.workers,
    )


@contextmanager
def cycle_ports(
    settings: Settings,
    *,
    dry_run: bool = False,
    config: AppConfig | None = None,
    stack: ExitStack | None = None,
) -> Iterator[CyclePorts]:
    """Everything `run_cycle` needs, closed on leaving: `run`, `serve`, the Lambda, the demo.

    `config` is the YAML config already loaded (and checked); None reads
    `settings.config_path`. `stack`: as for `session_repository`.
    """
    with ExitStack() as own:
        yield _cycle_ports(settings, stack or own, dry_run=dry_run, config=config)


# --- Checks (`naver-sms doctor`) --------------------------------------------------------------

# The tables a cycle reads and writes, by the names each store gives them.
_SQLITE_TABLES: Final = ("sms", "session", "sms_sent")


def check_records_store(settings: Settings) -> str:
    """What the records' store is, in a few words, when a cycle can use it as it is;
    ConfigError saying what is wrong and what to do when not. Creates and changes nothing.

    SQLite: the file exists, only its owner may read it (it holds the Naver
    cookies and customers' phones), its tables are there, and it takes a
    write lock. DynamoDB: each table exists and is ACTIVE.
    """
    if settings.store == "dynamodb":
        return _check_dynamodb(settings)
    return _check_sqlite(settings.db_path)


def _check_sqlite(path: Path) -> str:
    import sqlite3  # noqa: PLC0415
    import stat  # noqa: PLC0415

    where = f"SQLite file {path} (NAVER_SMS_DB)"
    if not path.exists():
        raise ConfigError(f"{where}: not found; create it with `naver-sms create-tables`")
    if not path.is_file():
        raise ConfigError(f"{where}: not a file; set NAVER_SMS_DB to a file path")
    mode = stat.S_IMODE(path.stat().st_mode)
    if os.name == "posix" and mode & 0o077:
        raise ConfigError(
            f"{where}: other users may read it (mode {mode:04o}), and it holds the Naver "
            f"login cookies and customers' phones: run `chmod 600 {path}`"
        )
    try:
        # mode=rw: a missing file is an error, never a new empty database.
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=rw", uri=True, timeout=2.0)
    except sqlite3.Error as exc:
        raise ConfigError(f"{where}: cannot be opened for writing ({exc})") from None
    try:
        tables = {
            name
            for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        missing = [name for name in _SQLITE_TABLES if name not in tables]
        if missing:
            raise ConfigError(
                f"{where}: no table {', '.join(missing)}; run `naver-sms create-tables`"
            )
        # The lock every cycle's mark takes: refused on a read-only file or folder.
        connection.execute("BEGIN IMMEDIATE")
        connection.execute("ROLLBACK")
    except sqlite3.Error as exc:
        raise ConfigError(
            f"{where}: cannot be written ({exc}); the file and its folder must be writable "
            "by the user naver-sms runs as"
        ) from None
    finally:
        connection.close()
    return f"SQLite {path}, mode {mode:04o}, tables {', '.join(_SQLITE_TABLES)}"


def _check_dynamodb(settings: Settings) -> str:
    from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

    names = (settings.bookings_table, settings.session_table, settings.sent_table)
    with ExitStack() as stack:
        client = _dynamodb_client(settings, stack)
        for name in names:
            where = f"DynamoDB table {name!r} ({settings.aws_region})"
            try:
                status = client.describe_table(TableName=name)["Table"].get("TableStatus")
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code", "Unknown")
                if code == "ResourceNotFoundException":
                    raise ConfigError(
                        f"{where}: not found; create it with `naver-sms create-tables` "
                        "(or deploy the template), or set its NAVER_SMS_*_TABLE name"
                    ) from None
                raise ConfigError(
                    f"{where}: cannot be read ({code}); the AWS credentials need "
                    "dynamodb:DescribeTable and the cycle's permissions"
                ) from None
            except BotoCoreError as exc:
                raise ConfigError(
                    f"{where}: DynamoDB not reached ({type(exc).__name__}); check the AWS "
                    "credentials, AWS_DEFAULT_REGION and AWS_ENDPOINT_URL"
                ) from None
            if status != "ACTIVE":
                raise ConfigError(f"{where}: {status}, not ACTIVE yet; try again in a minute")
    return f"DynamoDB ({settings.aws_region}), tables {', '.join(names)} ACTIVE"


# --- The owner's web page ---------------------------------------------------------------------


@contextmanager
def owner(
    settings: Settings, config: AppConfig, *, stack: ExitStack | None = None
) -> Iterator[OwnerPort]:
    """What the owner's pages read and do (`naver_sms.web.owner.Owner`), closed on leaving.

    Without SENS keys (or with AlimTalk not set up) the pages still open: the
    parts that need SENS say in one line which setting is missing. A rehearsal
    builds its own dry-run ports, as `naver-sms run --dry-run` does.
    `stack`: as for `session_repository`.
    """
    from naver_sms.cycle import run_cycle  # noqa: PLC0415
    from naver_sms.report import CycleReport  # noqa: PLC0415
    from naver_sms.web.owner import NO_SENS, Owner  # noqa: PLC0415

    def rehearse(now: datetime) -> CycleReport:
        with cycle_ports(settings, dry_run=True, config=config) as ports:
            return run_cycle(ports=ports, now=now)

    with ExitStack() as own:
        stack = stack or own
        sens_sender: SensSender | None = None
        alimtalk: SmsSender | None = None
        problem = NO_SENS
        try:
            sens_sender = _closed_with(stack, _sens_sender(settings))
            alimtalk = _closed_with(stack, build_alimtalk_sender(settings, config))
        except ConfigError as exc:
            # SENS is built first: an AlimTalk set-up it refuses leaves the SMS side working.
            problem = str(exc) if has_sens_keys(settings) else NO_SENS
        yield Owner(
            config=config,
            bookings=_booking_repository(settings, stack),
            sessions=_session_repository(settings, stack),
            booking_api=_closed_with(stack, build_booking_api(settings)),
            rehearse_cycle=rehearse,
            sens=sens_sender,
            alimtalk=alimtalk,
            sens_problem=problem,
        )
