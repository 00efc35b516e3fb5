"""Names of the imports capability (bulk CSV import and export of contacts): its table, bucket, queue and
settings. Plain constants (no CDK, no boto3), read by the topology and the runtime alike. The
worker also reads two of the contacts' settings (`ecrm.contacts.names.Env`): it applies rows
through their capture rules."""

from typing import Final

from ecrm import names


class Env(names.Env):
    """Environment-variable names of the imports capability."""

    IMPORTS_TABLE: Final = "IMPORTS_TABLE_NAME"
    FILES_BUCKET: Final = "FILES_BUCKET_NAME"
    IMPORT_QUEUE_URL: Final = "IMPORT_QUEUE_URL"
    EXPORT_QUEUE_URL: Final = "EXPORT_QUEUE_URL"
    IMPORT_MAX_BYTES: Final = "IMPORT_MAX_BYTES"  # the largest file a presigned upload may carry
    IMPORT_OPT_IN_RATE: Final = "IMPORT_OPT_IN_PER_SECOND"  # opt-in requests an import makes per second, at most


class Resource(names.Resource):
    """Logical names of the imports capability's resources."""

    IMPORTS_TABLE: Final = "Imports"  # one item per import or export job: state, checkpoint, counts
    FILES_BUCKET: Final = "Files"  # uploads, reports and exports: hand-overs, expired after days
    IMPORT_QUEUE: Final = "ImportQueue"  # one message per step of a job (validate, then apply from an offset)
    EXPORT_QUEUE: Final = "ExportQueue"  # one message per export
