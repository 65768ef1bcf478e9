"""Customer-base models for non-contractual purchases: BG/NBD and Gamma-Gamma, fitted with scipy.

BG/NBD (Fader, Hardie and Lee 2005, "Counting your customers the easy way"): while alive, a
customer buys as a Poisson process with a rate drawn from Gamma(r, alpha); after each purchase
they drop out with a probability drawn from Beta(a, b). Gamma-Gamma (Fader and Hardie 2013, "The
Gamma-Gamma model of monetary value"): the amounts of a customer's purchases vary around their
own mean, which is drawn across customers from a Gamma-Gamma(p, q, gamma) mixture, independent of
how often they buy.

The input is the summary per customer made in SQL (queries/future_value_summary.sql): repeat
purchase days x, recency t_x and age T (in weeks, from the first purchase day), and the average
amount of the repeat purchase days. Customers with the same (x, t_x, T) are fitted as one row
with a weight, so a million customers fit in seconds. The published log-likelihoods are coded
here (lifetimes pins an old pandas); the CDNOW test checks them against the paper.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy import optimize, special

from crmlens import survival

DAYS_PER_WEEK = 7.0
WEEKS_PER_MONTH = 365.25 / 12 / DAYS_PER_WEEK
MIN_REPEAT_CUSTOMERS = survival.MIN_GROUP  # fewer repeat buyers than this cannot tell a model: the page says so


class TooLittleData(ValueError):
    """The data cannot answer: too few customers, or no repeat purchases."""


@dataclass(frozen=True)
class BgNbd:
    r: float
    alpha: float
    a: float
    b: float

    def p_alive(self, x, t_x, T):
        x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
        return 1.0 / (1.0 + _death_odds(self, x, t_x, T))

    def expected_purchases(self, t, x, t_x, T):
        """E[purchases in (T, T + t] | x, t_x, T] (FHL 2005, eq. 10)."""
        r, alpha, a, b = self.r, self.alpha, self.a, self.b
        x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
        t = np.asarray(t, dtype=float)
        z = t / (alpha + T + t)
        hyp = special.hyp2f1(r + x, b + x, a + b + x - 1, z)
        head = (a + b + x - 1) / (a - 1)
        body = 1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp
        return head * body / (1 + _death_odds(self, x, t_x, T))


@dataclass(frozen=True)
class GammaGamma:
    p: float
    q: float
    gamma: float

    def expected_amount(self, x, mean_amount, population_mean: float | None = None):
        """E[amount of a purchase | x repeat purchases averaging mean_amount] (FH 2013, eq. 5);
        customers without repeat purchases get the population mean p * gamma / (q - 1)."""
        p, q, g = self.p, self.q, self.gamma
        x = np.asarray(x, dtype=float)
        m = np.nan_to_num(np.asarray(mean_amount, dtype=float))
        cond = (g + x * m) * p / (p * x + q - 1)
        prior = p * g / (q - 1) if population_mean is None else population_mean
        return np.where(x > 0, cond, prior)


def _death_odds(m: BgNbd, x, t_x, T):
    """a / (b + x - 1) * ((alpha + T) / (alpha + t_x))^(r + x) for x > 0, else 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        odds = m.a / (m.b + x - 1) * ((m.alpha + T) / (m.alpha + t_x)) ** (m.r + x)
    return np.where(x > 0, odds, 0.0)


def bgnbd_log_likelihood(params, x, t_x, T, weights, gradient: bool = False):
    """Sum of the BG/NBD log-likelihoods (FHL 2005, eq. 6) over rows with weights; with gradient=True also its
    derivatives in (r, alpha, a, b)."""
    r, alpha, a, b = params
    repeat = x > 0
    a1 = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
    a2 = special.gammaln(a + b) + special.gammaln(b + x) - special.gammaln(b) - special.gammaln(a + b + x)
    a3 = -(r + x) * np.log(alpha + T)
    b_x1 = np.where(repeat, b + x - 1, 1.0)  # b + x - 1 only where x > 0 (it is b - 1 at x = 0)
    a4 = np.where(repeat, np.log(a) - np.log(b_x1) - (r + x) * np.log(alpha + t_x), -np.inf)
    mix = np.logaddexp(a3, a4)
    value = float(np.sum(weights * (a1 + a2 + mix)))
    if not gradient:
        return value
    w3, w4 = np.exp(a3 - mix), np.exp(a4 - mix)
    psi = special.digamma
    d_r = psi(r + x) - psi(r) + np.log(alpha) - w3 * np.log(alpha + T) - w4 * np.log(alpha + t_x)
    d_alpha = r / alpha - w3 * (r + x) / (alpha + T) - w4 * (r + x) / (alpha + t_x)
    d_a = psi(a + b) - psi(a + b + x) + w4 / a
    d_b = psi(a + b) + psi(b + x) - psi(b) - psi(a + b + x) - w4 / b_x1
    return value, np.array([np.sum(weights * d) for d in (d_r, d_alpha, d_a, d_b)])


def gamma_gamma_log_likelihood(params, x, mean_amount, weights, gradient: bool = False):
    """Sum of the Gamma-Gamma log-likelihoods (FH 2013, eq. 3, without its constant) over customers with x > 0;
    with gradient=True also its derivatives in (p, q, gamma)."""
    p, q, g = params
    px = p * x
    log_gxm = np.log(g + x * mean_amount)
    ll = (special.gammaln(px + q) - special.gammaln(px) - special.gammaln(q) + q * np.log(g)
          + (px - 1) * np.log(mean_amount) + px * np.log(x) - (px + q) * log_gxm)
    value = float(np.sum(weights * ll))
    if not gradient:
        return value
    psi = special.digamma
    d_p = x * (psi(px + q) - psi(px) + np.log(mean_amount) + np.log(x) - log_gxm)
    d_q = psi(px + q) - psi(q) + np.log(g) - log_gxm
    d_g = q / g - (px + q) / (g + x * mean_amount)
    return value, np.array([np.sum(weights * d) for d in (d_p, d_q, d_g)])


def _fit(log_likelihood, n_params: int, start: float = 1.0) -> np.ndarray:
    """Maximise log_likelihood(params, gradient=True) -> (value, gradient) over log-parameters (all positive)
    with L-BFGS-B and the analytic gradient (a few dozen evaluations over the distinct rows)."""
    def f(log_params):
        params = np.exp(log_params)
        value, grad = log_likelihood(params, gradient=True)
        if not np.isfinite(value) or not np.all(np.isfinite(grad)):
            return 1e300, np.zeros(n_params)
        return -value, -grad * params  # d/d log(theta) = theta x d/d theta

    best = optimize.minimize(f, np.full(n_params, np.log(start)), jac=True, method="L-BFGS-B",
                             options={"ftol": 1e-14, "gtol": 1e-8, "maxiter": 1000})
    return np.exp(best.x)


def _grouped(columns: list[np.ndarray]) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """Identical rows as one row with a count: (distinct rows' columns, counts, each input row's group).

    Hash grouping (pandas): numpy's unique over rows sorts them as bytes, 13 s for a million here."""
    frame = pd.DataFrame({str(i): c for i, c in enumerate(columns)})
    inverse = frame.groupby(list(frame.columns), sort=False).ngroup().to_numpy()
    counts = np.bincount(inverse)
    first = np.empty(len(counts), dtype=np.int64)
    first[inverse[::-1]] = np.arange(len(inverse) - 1, -1, -1)  # the last write per group is its first row
    return [np.asarray(c)[first] for c in columns], counts.astype(float), inverse


def fit_bgnbd(x, t_x, T) -> BgNbd:
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    if len(x) < MIN_REPEAT_CUSTOMERS or (x > 0).sum() < MIN_REPEAT_CUSTOMERS:
        raise TooLittleData(f"{int((x > 0).sum())} customers with a repeat purchase; at least {MIN_REPEAT_CUSTOMERS} needed")
    (ux, ut, uT), w, _ = _grouped([x, t_x, T])
    scale = max(float(np.max(uT)), 1.0) / 10  # fit in time units near 10, then scale alpha back
    params = _fit(lambda p, gradient: bgnbd_log_likelihood(p, ux, ut / scale, uT / scale, w, gradient), 4)
    r, alpha, a, b = params
    return BgNbd(float(r), float(alpha * scale), float(a), float(b))


def fit_gamma_gamma(x, mean_amount) -> GammaGamma:
    x, m = np.asarray(x, dtype=float), np.asarray(mean_amount, dtype=float)
    keep = (x > 0) & np.isfinite(m) & (m > 0)
    if keep.sum() < MIN_REPEAT_CUSTOMERS:
        raise TooLittleData(f"{int(keep.sum())} customers with a repeat purchase; at least {MIN_REPEAT_CUSTOMERS} needed")
    (ux, um), w, _ = _grouped([x[keep], m[keep]])
    scale = float(np.median(um))  # amounts near 1 while fitting; gamma scales back
    p, q, g = _fit(lambda pr, gradient: gamma_gamma_log_likelihood(pr, ux, um / scale, w, gradient), 3)
    return GammaGamma(float(p), float(q), float(g * scale))


@dataclass(frozen=True)
class Fit:
    bgnbd: BgNbd
    gamma_gamma: GammaGamma

    @property
    def params(self) -> dict[str, float]:
        return {**asdict(self.bgnbd), **asdict(self.gamma_gamma)}


def fit(summary: pd.DataFrame) -> Fit:
    """Both models on the summary of queries/future_value_summary.sql (weeks)."""
    x = summary["n_repeat"].to_numpy(float)
    return Fit(fit_bgnbd(x, summary["weeks_recency"].to_numpy(float), summary["weeks_age"].to_numpy(float)),
               fit_gamma_gamma(x, summary["amt_repeat_avg"].to_numpy(float)))


def predict(model: Fit, summary: pd.DataFrame, months: float, holdout_weeks: float | None = None) -> pd.DataFrame:
    """Per customer: P(alive), expected purchases in the next `months`, expected amount per purchase and
    expected value (purchases x amount, undiscounted); and expected purchases in the holdout when given.

    Computed once per distinct (x, t_x, T) and spread back to the customers."""
    x = summary["n_repeat"].to_numpy(float)
    t_x = summary["weeks_recency"].to_numpy(float)
    T = summary["weeks_age"].to_numpy(float)
    (ux, ut, uT), _, inverse = _grouped([x, t_x, T])
    bg = model.bgnbd
    out = pd.DataFrame({"customer_id": summary["customer_id"]})
    out["p_alive"] = bg.p_alive(ux, ut, uT)[inverse]
    out["n_expected"] = bg.expected_purchases(months * WEEKS_PER_MONTH, ux, ut, uT)[inverse]
    out["amt_expected_per_purchase"] = model.gamma_gamma.expected_amount(x, summary["amt_repeat_avg"].to_numpy(float))
    out["amt_expected_value"] = out["n_expected"] * out["amt_expected_per_purchase"]
    if holdout_weeks is not None:
        out["n_expected_holdout"] = bg.expected_purchases(holdout_weeks, ux, ut, uT)[inverse]
    return out
