"""The paper's claims (docs/method.md, section 6): one module per paper experiment, each with
its claims and the rows it judges them on; `check_claims` judges a whole sweep.

How a verdict is reached (t-intervals over seeds) is `analysis/verdicts.py`; which rows
a claim reads, `analysis/claims/scope.py`; C15 and C17, which span several experiments,
`analysis/claims/spanning.py`.
"""

from __future__ import annotations

from analysis.claims.check import check_claims
from analysis.verdicts import ClaimVerdict

__all__ = ["ClaimVerdict", "check_claims"]
