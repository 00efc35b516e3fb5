"""Pinned versions of what the functions run on in AWS. Plain data: no CDK import.

Powertools: the same version locally (pyproject.toml pins aws-lambda-powertools==POWERTOOLS_VERSION)
and in the cloud, where it comes from AWS's public layer
    arn:aws:lambda:{region}:017000801446:layer:AWSLambdaPowertoolsPythonV3-{python}-{arch}:{layer version}

The layer version is a sequence number AWS assigns per release, the same in every commercial region.
Known pairs (Powertools GitHub issue #7689 and the project docs): 3.23.0 -> 27, 3.28.0 -> 32, one
number per release since; 3.37.0 -> 41 follows from that. Confirm it before the first deploy, since AWS
publishes the mapping as an SSM public parameter:
    aws ssm get-parameter --name /aws/service/powertools/python/arm64/python3.12/3.37.0
When bumping, change both numbers below together with pyproject.toml.
"""

from typing import Final

POWERTOOLS_VERSION: Final = "3.37.0"
POWERTOOLS_LAYER_VERSION: Final = 41
POWERTOOLS_LAYER_ACCOUNT: Final = "017000801446"  # AWS's publishing account, not ours

PYTHON_RUNTIME: Final = "python3.12"  # Lambda runtime; the code is also 3.11-valid (CI runs 3.11)

# Lambda architecture name -> pip platform tag for the dependencies layer.
PIP_PLATFORMS: Final = {"arm64": "manylinux2014_aarch64", "x86_64": "manylinux2014_x86_64"}


def powertools_layer_arn(*, partition: str, region: str, architecture: str) -> str:
    python_tag = PYTHON_RUNTIME.replace(".", "")
    return (
        f"arn:{partition}:lambda:{region}:{POWERTOOLS_LAYER_ACCOUNT}:layer:"
        f"AWSLambdaPowertoolsPythonV3-{python_tag}-{architecture}:{POWERTOOLS_LAYER_VERSION}"
    )
