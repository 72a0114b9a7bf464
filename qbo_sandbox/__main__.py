"""``python -m qbo_sandbox [--host --port --db FILE --config FILE]``"""

from __future__ import annotations

import argparse

from werkzeug.serving import make_server

from .app import create_app
from .seed import DEMO_USER, REALM_1, REALM_2


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m qbo_sandbox", description="Local QuickBooks Online sandbox"
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5001)
    parser.add_argument(
        "--db", help="SQLite file (state survives restarts); in-memory when omitted"
    )
    parser.add_argument("--config", help="JSON config file (see qbo_sandbox/README.md)")
    args = parser.parse_args(argv)
    overrides = {"db": args.db} if args.db else {}
    app = create_app(overrides, config_file=args.config)
    server = make_server(args.host, args.port, app, threaded=True)
    base = f"http://{args.host}:{server.port}"
    print(f"QBO sandbox on {base}")
    print(f"  discovery  {base}/.well-known/openid_sandbox_configuration")
    print(f"  API base   {base}/v3/company/<realmId>")
    print(
        f"  Intuit user {DEMO_USER['email']} / {DEMO_USER['password']}; realms {REALM_1}, {REALM_2}"
    )
    print("  dev app    sandbox-client-id / sandbox-client-secret")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
