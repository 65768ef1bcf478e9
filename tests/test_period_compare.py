"""Issue 16, defects 4 and 8: comparison periods, and how much of one the data covers."""

import datetime as dt

from crmlens import period

D = dt.date


def test_same_period_last_year():
    assert period.same_period_last_year(D(2026, 3, 1), D(2026, 3, 31)) == (D(2025, 3, 1), D(2025, 3, 31))
    assert period.same_period_last_year(D(2024, 2, 29), D(2024, 12, 31)) == (D(2023, 2, 28), D(2023, 12, 31))
    assert period.comparison_period(D(2026, 3, 1), D(2026, 3, 31), "previous") == (D(2026, 1, 29), D(2026, 2, 28))


def test_days_covered():
    # previous period 2025-01-01..2025-12-31; orders start 2025-12-23: 9 days of data
    assert period.days_covered(D(2025, 1, 1), D(2025, 12, 31), D(2025, 12, 23), D(2026, 11, 30)) == 9
    assert period.days_covered(D(2025, 1, 1), D(2025, 12, 31), None, None) == 0
    assert period.days_covered(D(2025, 1, 1), D(2025, 1, 31), D(2026, 1, 1), D(2026, 2, 1)) == 0
    assert period.days_covered(D(2025, 1, 1), D(2025, 1, 31), D(2024, 1, 1), D(2026, 2, 1)) == 31
