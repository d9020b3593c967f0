"""Open311 API keys and what each submitted.

- `ApiKey`: a third-party app allowed to submit requests. Only the key's sha256 is stored; the
  key itself is shown once, when an admin creates it. Each key acts through its own service
  user (`open311-<name>`, who cannot log in), so a case's timeline says which app filed it.
  The key row also holds its rate-limit window, so the limit holds across API processes.
- `Submission`: a request posted through Open311: its case, the key, and the token the
  tokens endpoint answers for.
"""

from piccolo.columns import ForeignKey, Integer, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from api.auth.tables import User
from api.cases.tables import Case


class ApiKey(Table, tablename="open311_api_keys"):
    name = Varchar(length=80, unique=True)
    key_sha256 = Varchar(length=64, unique=True)
    user = ForeignKey(references=User, on_delete=OnDelete.restrict, null=False)
    created_at = Timestamptz()
    revoked_at = Timestamptz(null=True, default=None)
    last_used_at = Timestamptz(null=True, default=None)
    window_start = Timestamptz(null=True, default=None)  # the current rate-limit minute
    window_count = Integer(default=0)


class Submission(Table, tablename="open311_submissions"):
    case = ForeignKey(references=Case, on_delete=OnDelete.cascade, null=False, unique=True)
    api_key = ForeignKey(references=ApiKey, on_delete=OnDelete.restrict, null=False)
    token = Varchar(length=43, unique=True)
    created_at = Timestamptz()
