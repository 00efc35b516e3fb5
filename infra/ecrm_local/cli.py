"""`ecrm`: the developer's commands for the local stack (`local`, `invoke`, `token`, `api-key`, `openapi`)."""

from __future__ import annotations

import argparse
import contextlib
import faulthandler
import json
import logging
import signal
import sys
import threading
import time
import warnings
from datetime import timedelta
from pathlib import Path
from types import FrameType

from ecrm.names import Role, Scope

from ecrm_local import ses_quota, ttl

STOP_LIMIT_SECONDS = 10


def _local(args: argparse.Namespace) -> int:
    from ecrm_local.stack import LocalStack

    # Powertools warns on every request whose handler adds no metric: noise on a developer's console.
    warnings.filterwarnings("ignore", message="No application metrics to publish")

    started = time.monotonic()
    stack = LocalStack(
        host=args.host,
        port=args.port,
        ses_send_rate=args.ses_send_rate,
        outbox_retention=timedelta(seconds=args.outbox_retention),
    )
    stopping = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    try:
        try:
            stack.start()
        except OSError as exc:  # most often: the port is taken
            print(f"ecrm local could not start on {args.host}:{args.port}: {exc}", file=sys.stderr)
            return 1
        print(f"ecrm local is up in {time.monotonic() - started:.1f} s", flush=True)
        for label, url in stack.urls().items():
            print(f"  {label:<7} {url}", flush=True)
        print("Ctrl-C stops it.", flush=True)
        stopping.wait()
    finally:
        # A stop that hangs must neither keep the developer waiting nor hide why: past the limit
        # every thread's stack goes to stderr and the process ends (exit 1).
        faulthandler.dump_traceback_later(STOP_LIMIT_SECONDS, exit=True)
        stack.stop()
        faulthandler.cancel_dump_traceback_later()
    print("ecrm local stopped", flush=True)
    return 0


def _invoke(args: argparse.Namespace) -> int:
    import boto3
    from moto import mock_aws

    from ecrm_local import lambdas, resources
    from ecrm_local.stack import use_local_aws

    event = json.loads(Path(args.event).read_text())
    use_local_aws(None)
    # Handler logs and metrics go to stderr, so stdout carries only the result.
    with mock_aws(), contextlib.redirect_stdout(sys.stderr):
        import os

        os.environ.update(resources.function_env(resources.create_all(boto3.session.Session())))
        result = lambdas.invoke(args.function, event)
    print(json.dumps(result, indent=2, default=str))
    return 0


def _api_key(args: argparse.Namespace) -> int:
    from ecrm_local import auth_tokens

    try:
        print(auth_tokens.api_key(auth_tokens.load_key(), args.client))
    except ValueError as exc:
        print(f"ecrm api-key: {exc}", file=sys.stderr)
        return 2
    return 0


def _token(args: argparse.Namespace) -> int:
    from ecrm_local import auth_tokens

    key = auth_tokens.load_key()
    if args.client:
        try:
            print(auth_tokens.mint_client(key, args.client, tuple(args.scope or ()), args.ttl))
        except ValueError as exc:
            print(f"ecrm token: {exc}", file=sys.stderr)
            return 2
    else:
        print(auth_tokens.mint(key, args.role, args.email, args.ttl))
    return 0


def _openapi(args: argparse.Namespace) -> int:
    from ecrm_local import openapi

    text = openapi.to_json(openapi.build_spec())
    if args.out:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text)
    else:
        sys.stdout.write(text)
    return 0


def _reindex(args: argparse.Namespace) -> int:
    import boto3

    from ecrm_local.reindex import reindex_contacts

    done = reindex_contacts(boto3.client("dynamodb"), args.table, args.phone_country_code)
    print(f"indexed {done.indexed} contacts; {done.changed_meanwhile} changed meanwhile (indexed by that write)")
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="ecrm", description="Run the eCRM stack on this machine over moto.")
    commands = root.add_subparsers(dest="command", required=True)

    local = commands.add_parser("local", help="serve the API, pollers, schedules and outbox on localhost")
    local.add_argument("--port", type=int, default=3000)
    local.add_argument("--host", default="127.0.0.1")
    local.add_argument(
        "--ses-send-rate",
        type=int,
        default=ses_quota.MAX_SEND_RATE,
        help="mails per second moto's SES allows (its GetSendQuota MaxSendRate, which the campaign sender paces at)",
    )
    local.add_argument(
        "--outbox-retention",
        type=int,
        default=int(ttl.OUTBOX_RETENTION.total_seconds()),
        help="seconds an Outbox row stays locally (a week in AWS); the relay reads the stream, not the row",
    )
    local.set_defaults(run=_local)

    invoke = commands.add_parser("invoke", help="run one function on a sample event against fresh moto")
    invoke.add_argument("function")
    invoke.add_argument("--event", required=True, help="e.g. events/apigw/capture_json.json")
    invoke.set_defaults(run=_invoke)

    token = commands.add_parser(
        "token", help="print a staff ID token (--role) or a machine client's access token (--client) for `ecrm local`"
    )
    who = token.add_mutually_exclusive_group(required=True)
    who.add_argument("--role", choices=Role.ALL)
    who.add_argument("--client", help="a declared machine client (infra/ecrm_infra/topology/clients.py)")
    token.add_argument("--email", default=None, help="with --role")
    token.add_argument(
        "--scope", action="append", choices=Scope.ALL, help="with --client, repeatable; default: all it may have"
    )
    token.add_argument("--ttl", type=int, default=3600, help="seconds")
    token.set_defaults(run=_token)

    key = commands.add_parser("api-key", help="print a machine client's API key for `ecrm local`")
    key.add_argument("--client", required=True)
    key.set_defaults(run=_api_key)

    spec = commands.add_parser("openapi", help="print or write the merged OpenAPI document")
    spec.add_argument("--out", default=None)
    spec.set_defaults(run=_openapi)

    reindex = commands.add_parser(
        "reindex-contacts", help="put the search index items of every contact (backfill; idempotent; scans the table)"
    )
    reindex.add_argument("--table", required=True, help="the Contacts table's name")
    reindex.add_argument(
        "--phone-country-code", required=True, help="the deployment's defaultPhoneCountryCode, e.g. 49"
    )
    reindex.set_defaults(run=_reindex)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("botocore").setLevel(logging.WARNING)
    code: int = args.run(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
