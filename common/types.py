"""Field types every service's schemas share."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

# Ids are INT columns: a larger number can only be a mistake, and must be a 422, not a database error.
MAX_ID = 2_147_483_647
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
