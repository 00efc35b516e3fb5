"""The three layers every function gets: Powertools (AWS's, by ARN), our `ecrm` package, our deps.

Powertools' ARN comes from AWS's public SSM parameter for the pinned release (ecrm_infra.versions),
resolved by CloudFormation at deploy time.

Both of ours are built by local bundling (no Docker): a file copy for `ecrm`, pip with
`--platform` for the dependencies. Synthesis skips bundling for stacks not listed in the context
key `aws:cdk:bundling-stacks` (the infra tests set it to `[]`); the asset is then the source folder.

Both ship bytecode compiled by an interpreter of Lambda's Python version when this machine has one
(`python3.12` on PATH, or `$ECRM_LAMBDA_PYTHON`): Lambda's /opt is read-only, so a layer without
`__pycache__` is compiled again at every cold start (docs/decisions.md, 48). Without one, the
layers ship source only and synthesis says so.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import jsii
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from ecrm_infra import versions
from ecrm_infra.bytecode import RUNTIME_VERSION, compile_bytecode, runtime_interpreter

REPO_ROOT = Path(__file__).resolve().parents[2]
ECRM_PACKAGE = REPO_ROOT / "layers" / "ecrm" / "ecrm"
DEPS_DIR = REPO_ROOT / "layers" / "deps"
_RUNTIME = lambda_.Runtime.PYTHON_3_12
# Never pulled: local bundling always succeeds or raises. CDK requires an image all the same.
_UNUSED_IMAGE = cdk.DockerImage.from_registry("public.ecr.aws/sam/build-python3.12")
_JUNK = shutil.ignore_patterns("__pycache__", "*.pyc", ".mypy_cache", ".pytest_cache")


@jsii.implements(cdk.ILocalBundling)
class _CopyPackage:
    """Copies a Python package to `python/<name>/`, where Lambda puts layer code on sys.path."""

    def __init__(self, package: Path, interpreter: str | None) -> None:
        self._package = package
        self._interpreter = interpreter

    def try_bundle(self, output_dir: str, *_: Any, **__: Any) -> bool:
        python = Path(output_dir) / "python"
        shutil.copytree(self._package, python / self._package.name, ignore=_JUNK)
        compile_bytecode(python, self._interpreter)
        return True


@jsii.implements(cdk.ILocalBundling)
class _PipInstall:
    """pip-installs a requirements file for Lambda's platform: wheels only, so nothing compiles here."""

    def __init__(self, requirements: Path, architecture: str, interpreter: str | None) -> None:
        self._requirements = requirements
        self._platform = versions.PIP_PLATFORMS[architecture]
        self._interpreter = interpreter

    def try_bundle(self, output_dir: str, *_: Any, **__: Any) -> bool:
        python = Path(output_dir) / "python"
        command = [
            sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
            "--platform", self._platform, "--only-binary=:all:", "--implementation", "cp",
            "--python-version", RUNTIME_VERSION, "--no-compile",  # pip would compile for this Python
            "--no-deps",  # the file is the locked closure (make lock): nothing is resolved here
            "--target", str(python), "-r", str(self._requirements),
        ]  # fmt: skip
        subprocess.run(command, check=True)  # noqa: S603 - fixed argv, no shell
        compile_bytecode(python, self._interpreter)
        return True


def _bundled(source: Path, local: Any, architecture: str, bytecode: str) -> lambda_.Code:
    return lambda_.Code.from_asset(
        str(source),
        exclude=["**/__pycache__", "**/*.pyc"],
        # Bundling options are part of the asset hash: a new architecture, or bytecode where there
        # was none, means a new build (the environment is not read by the local bundlers).
        bundling=cdk.BundlingOptions(
            image=_UNUSED_IMAGE,
            local=local,
            platform=f"linux/{architecture}",
            environment={"ECRM_BYTECODE": bytecode},
        ),
    )


class Layers(Construct):
    """Builds the layers once per stack; `all` is in attach order (later layers win in /opt/python)."""

    def __init__(self, scope: Construct, construct_id: str, *, architecture: lambda_.Architecture) -> None:
        super().__init__(scope, construct_id)
        arch = architecture.name
        interpreter = runtime_interpreter()
        bytecode = "none" if interpreter is None else f"cpython-{RUNTIME_VERSION}"
        # AWS's public parameter for the pinned release, resolved by CloudFormation at deploy time.
        arn = ssm.StringParameter.value_for_string_parameter(self, versions.powertools_layer_parameter(arch))
        # Lambda extracts layers into /opt in the listed order, later ones overwriting. CDK sorts a
        # function's layers by construct path when @aws-cdk/aws-lambda:recognizeLayerVersion is on,
        # so the ids carry the order: Powertools, then our deps (our pinned pydantic wins), then ecrm.
        self.powertools = lambda_.LayerVersion.from_layer_version_arn(self, "L1Powertools", arn)
        self.deps = lambda_.LayerVersion(
            self,
            "L2Deps",
            code=_bundled(DEPS_DIR, _PipInstall(DEPS_DIR / "requirements.txt", arch, interpreter), arch, bytecode),
            compatible_runtimes=[_RUNTIME],
            compatible_architectures=[architecture],
            description=f"Third-party dependencies locked in layers/deps/requirements.txt ({arch})",
        )
        self.ecrm = lambda_.LayerVersion(
            self,
            "L3Ecrm",
            code=_bundled(ECRM_PACKAGE, _CopyPackage(ECRM_PACKAGE, interpreter), arch, bytecode),
            compatible_runtimes=[_RUNTIME],
            compatible_architectures=[architecture],
            description="The shared ecrm package (domain, ports, adapters, models)",
        )
        self.all: list[lambda_.ILayerVersion] = [self.powertools, self.deps, self.ecrm]
