"""One Logger and one Metrics per process; service name and namespace come from names.py.

No Powertools Tracer: importing it loads the X-Ray SDK, measured at 0.23 s of cold start (70 % of
the boto3 floor). Lambda's active tracing (set in CDK) still records every invocation; see
docs/decisions.md.
"""

from aws_lambda_powertools import Logger, Metrics

from ecrm.names import METRICS_NAMESPACE, SERVICE

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=METRICS_NAMESPACE, service=SERVICE)
