"""One Logger, Metrics and Tracer per process; service name and namespace come from names.py."""

from aws_lambda_powertools import Logger, Metrics, Tracer

from ecrm.names import METRICS_NAMESPACE, SERVICE

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=METRICS_NAMESPACE, service=SERVICE)
tracer = Tracer(service=SERVICE)
