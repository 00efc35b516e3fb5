"""Pinned versions of what the functions run on in AWS. Plain data: no CDK import.

Powertools: one pin, pyproject.toml's `aws-lambda-powertools==<version>`, read here. Locally it is
the installed package (from the lock); in the cloud, AWS's public layer of the same release, whose
ARN AWS publishes per region as a public SSM parameter:
    /aws/service/powertools/python/{arch}/{python}/{version}
    e.g. /aws/service/powertools/python/arm64/python3.12/3.37.0
          -> arn:aws:lambda:<region>:017000801446:layer:AWSLambdaPowertoolsPythonV3-python312-arm64:<n>
The stack reads it at deploy time (a CloudFormation SSM parameter), so no layer number is kept
here. Bumping Powertools is `pyproject.toml` and `make lock`; a release AWS has not published the
parameter for fails the deploy with ParameterNotFound, before anything changes.
"""

import re
import tomllib
from pathlib import Path
from typing import Final

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def _pinned(distribution: str) -> str:
    dependencies: list[str] = tomllib.loads(PYPROJECT.read_text())["project"]["dependencies"]
    for requirement in dependencies:
        found = re.fullmatch(rf"{re.escape(distribution)}(\[[^\]]*\])?==([\w.]+)", requirement.replace(" ", ""))
        if found:
            return found.group(2)
    raise LookupError(f"pyproject.toml pins no {distribution}==<version>")


POWERTOOLS_VERSION: Final = _pinned("aws-lambda-powertools")
POWERTOOLS_PARAMETER_PREFIX: Final = "/aws/service/powertools/python"

PYTHON_RUNTIME: Final = "python3.12"  # Lambda runtime; the code is also 3.11-valid (CI runs 3.11)

# Lambda architecture name -> pip platform tag for the dependencies layer.
PIP_PLATFORMS: Final = {"arm64": "manylinux2014_aarch64", "x86_64": "manylinux2014_x86_64"}


def powertools_layer_parameter(architecture: str) -> str:
    """The public SSM parameter holding the ARN of AWS's Powertools layer for the pinned release."""
    return f"{POWERTOOLS_PARAMETER_PREFIX}/{architecture}/{PYTHON_RUNTIME}/{POWERTOOLS_VERSION}"
