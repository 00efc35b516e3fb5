"""The local stack: `ecrm local`, `ecrm invoke`, `ecrm token`, `ecrm api-key` and `ecrm openapi` over moto,
no AWS account."""

# Powertools' Logger(service="ecrm") puts a filter on the root logger's handlers that drops every
# record whose logger name *contains* "ecrm" (SuppressFilter: `service not in record.name`), so
# "ecrm_local.*" records (tracebacks, the access log) vanished. The local stack logs under this name.
LOG_NAME = "local_stack"
