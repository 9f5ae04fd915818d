"""erf and erfc without SciPy (Cephes ndtr.c rational approximations), for exact GELU."""

from __future__ import annotations

import numpy as np

from ._arrays import Array, as_float

# erf(x) = x T(x^2) / U(x^2) for |x| < 1
_ERF_T = (
    9.60497373987051638749e0,
    9.00260197203842689217e1,
    2.23200534594684319226e3,
    7.00332514112805075473e3,
    5.55923013010394962768e4,
)
_ERF_U = (
    1.0,
    3.35617141647503099647e1,
    5.21357949780152679795e2,
    4.59432382970980127987e3,
    2.26290000613890934246e4,
    4.92673942608635921086e4,
)
# erfc(a) = exp(-a^2) P(a) / Q(a) for 1 <= a < 8
_ERFC_P = (
    2.46196981473530512524e-10,
    5.64189564831068821977e-1,
    7.46321056442269912687e0,
    4.86371970985681366614e1,
    1.96520832956077098242e2,
    5.26445194995477358631e2,
    9.34528527171957607540e2,
    1.02755188689515710272e3,
    5.57535335369399327526e2,
)
_ERFC_Q = (
    1.0,
    1.32281951154744992508e1,
    8.67072140885989742329e1,
    3.54937778887819891062e2,
    9.75708501743205489753e2,
    1.82390916687909736289e3,
    2.24633760818710981792e3,
    1.65666309194161350182e3,
    5.57535340817727675546e2,
)
# erfc(a) = exp(-a^2) R(a) / S(a) for a >= 8
_ERFC_R = (
    5.64189583547755073984e-1,
    1.27536670759978104416e0,
    5.01905042251180477414e0,
    6.16021097993053585195e0,
    7.40974269950448939160e0,
    2.97886665372100240670e0,
)
_ERFC_S = (
    1.0,
    2.26052863220117276590e0,
    9.39603524938001434673e0,
    1.20489539808096656605e1,
    1.70814450747565897222e1,
    9.60896809063285878198e0,
    3.36907645100081516050e0,
)


def _polyval(coeffs: tuple[float, ...], x: Array) -> Array:
    """Horner evaluation with Python-float coefficients so the result keeps ``x``'s dtype."""
    out = np.full_like(x, coeffs[0])
    for c in coeffs[1:]:
        out *= x
        out += c
    return out


def _erf_and_erfc(x: Array) -> tuple[Array, Array]:
    """Both functions at once: each is accurate where the other would cancel catastrophically."""
    x = as_float(x)
    # Clamped copies keep the unused branch of np.where finite (no overflow warnings).
    xs = np.clip(x, -1.0, 1.0)
    z = xs * xs
    erf_small = xs * _polyval(_ERF_T, z) / _polyval(_ERF_U, z)
    a = np.clip(np.abs(x), 1.0, 27.0)  # erfc(27) underflows even float64
    ea = np.exp(-(a * a))
    tail = np.where(
        a < 8.0,
        ea * _polyval(_ERFC_P, a) / _polyval(_ERFC_Q, a),
        ea * _polyval(_ERFC_R, a) / _polyval(_ERFC_S, a),
    )  # erfc(|x|)
    small = np.abs(x) < 1.0
    erf_v = np.where(small, erf_small, np.where(x < 0, tail - 1.0, 1.0 - tail))
    erfc_v = np.where(small, 1.0 - erf_small, np.where(x < 0, 2.0 - tail, tail))
    return erf_v, erfc_v


def erf(x: Array) -> Array:
    """Vectorised error function (abs. error ~1e-16 in float64, ~1e-7 in float32)."""
    return _erf_and_erfc(x)[0]


def erfc(x: Array) -> Array:
    """Complementary error function, accurate in the far tail (GELU's negative side needs it)."""
    return _erf_and_erfc(x)[1]
