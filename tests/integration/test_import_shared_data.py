"""Every real Teddy Cup and NYC 311 file imports: imported + rejected = rows, nothing crashes.

Runs over the full public data in ../shared/data (or MEGACITY_SHARED_DATA); skipped with the
reason printed when that folder is absent (a fresh clone without it).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from megacity.bootstrap import bootstrap
from megacity.io import count_rows, read_tickets
from megacity.services import queries
from megacity.services.bulk import import_rows
from megacity.settings import Settings
from tests.conftest import SHARED_DATA


def shared_files() -> list[Path]:
    teddy = sorted((SHARED_DATA / "messages" / "teddycup2020_c").glob("附件[234]_*.*"))
    nyc = sorted((SHARED_DATA / "nyc311" / "raw").glob("*.csv")) + [
        SHARED_DATA / "nyc311" / "nyc311_combined_sample_normalized.csv"
    ]
    return [p for p in teddy + nyc if p.suffix in {".csv", ".xlsx"} and p.exists()]


FILES = shared_files()


@pytest.mark.skipif(not FILES, reason=f"the public data folder {SHARED_DATA} is absent")
@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_real_file_imports_completely(path: Path, tmp_path: Path) -> None:
    app = bootstrap(Settings(database_url=f"sqlite:///{tmp_path / 'm.db'}", files_dir=tmp_path / "f"))
    result = import_rows(app=app, rows=read_tickets(path, default_timezone="Asia/Shanghai"), actor="test")
    rows = count_rows(path)
    assert rows is not None and result.imported + result.rejected == rows
    assert queries.overview(app=app).total == result.imported
    if "teddycup" in str(path):
        # 附件2's message 37042 appears twice: the second copy is reported, not stored twice
        expected_rejects = 1 if "sample495" in path.name else 0
        assert result.rejected == expected_rejects, result.errors[:3]
