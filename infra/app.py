"""The CDK app: `python infra/app.py` (synthesizes into ./cdk.out) or `cdk synth` via cdk.json."""

from __future__ import annotations

import os
import sys
from pathlib import Path

# jsii starts Node when aws_cdk is imported: silence its Node-version banners before that. Node 20
# (this machine's) is past jsii's end-of-life date, which has its own switch, listing major versions.
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

ROOT = Path(__file__).resolve().parents[1]
# Importable without `pip install -e .` too: the CDK package and the shared `ecrm` package.
for path in (ROOT / "infra", ROOT / "layers" / "ecrm"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from ecrm_infra.stack import build_app, project_context  # noqa: E402 - needs the sys.path and environment above


def main() -> None:
    # Under the cdk CLI, CDK_OUTDIR and CDK_CONTEXT_JSON (cdk.json + -c) are set; run as a script,
    # read cdk.json's context ourselves and write where the CLI would.
    outdir = os.environ.get("CDK_OUTDIR") or str(ROOT / "cdk.out")
    context = {} if "CDK_CONTEXT_JSON" in os.environ else project_context()
    build_app(outdir=outdir, context=context).synth()


if __name__ == "__main__":
    main()
