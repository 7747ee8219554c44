#!/usr/bin/env bash
# Interoperability with real third-party clients: zeep, a WSDL-driven SOAP
# client (Python), loads the TOTVS R2 service's WSDL from a running server and
# calls every operation (tests/interop/zeep_r2.py, driven by the black-box
# test `totvs_r2::a_wsdl_driven_client_calls_every_operation`).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=target/interop-venv
if ! "$VENV/bin/python" -c "import zeep" 2>/dev/null; then
  echo "== installing zeep into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q "zeep==4.3.1"
fi
RASTRO_ZEEP_PYTHON="$PWD/$VENV/bin/python" cargo test -p tests --test api totvs_r2::
