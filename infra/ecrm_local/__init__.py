"""The local stack: `ecrm local`, `ecrm invoke`, `ecrm token` and `ecrm openapi` over moto, no AWS account."""
