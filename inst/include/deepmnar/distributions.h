// Observation models p(x | z): log-densities with their gradients, and
// reparameterised draws with the derivatives of the draw.
#ifndef DEEPMNAR_DISTRIBUTIONS_H
#define DEEPMNAR_DISTRIBUTIONS_H

#include <cmath>

#include "rng.h"
#include "special.h"

namespace deepmnar {

struct LogDensityGrad {
  double value, d_mu, d_scale, d_df;
};

inline LogDensityGrad gaussian_log_density(double x, double mu, double scale) {
  const double r = (x - mu) / scale;
  return {-0.5 * r * r - std::log(scale) - 0.5 * kLogTwoPi, r / scale, (r * r - 1.0) / scale, 0.0};
}

inline double student_t_log_norm(double df) {
  return log_gamma(0.5 * (df + 1.0)) - log_gamma(0.5 * df) - 0.5 * (std::log(df) + kLogPi);
}

inline LogDensityGrad student_t_log_density(double x, double mu, double scale, double df) {
  const double r = (x - mu) / scale;
  const double q = 1.0 + r * r / df;
  const double value = student_t_log_norm(df) - std::log(scale) - 0.5 * (df + 1.0) * std::log(q);
  const double pull = (df + 1.0) * r / (df * q);
  const double d_df = 0.5 * digamma(0.5 * (df + 1.0)) - 0.5 * digamma(0.5 * df) - 0.5 / df -
                      0.5 * std::log(q) + 0.5 * (df + 1.0) * r * r / (df * df * q);
  return {value, pull / scale, (pull * r - 1.0) / scale, d_df};
}

// Base noise of one reparameterised draw. Gaussian: x = mu + scale * u.
// Student-t: x = mu + scale * u * sqrt(df / c), c ~ chi2(df) = 2 Gamma(df/2),
// the gamma drawn by Marsaglia-Tsang whose accepted normal `g` is kept so the
// draw is a smooth function of df (the reparameterisation part of rejection
// sampling variational inference; the acceptance correction is ignored).
struct DrawNoise {
  double u = 0.0, g = 0.0;
};

inline double marsaglia_tsang_normal(double shape, Rng& rng) {
  const double d = shape - 1.0 / 3.0, c = 1.0 / std::sqrt(9.0 * d);
  for (;;) {
    const double g = rng.normal();
    const double v = 1.0 + c * g;
    if (v <= 0) continue;
    const double v3 = v * v * v;
    const double log_u = std::log(rng.uniform());
    if (log_u < 0.5 * g * g + d - d * v3 + d * std::log(v3)) return g;
  }
}

struct DrawGrad {
  double x, d_mu, d_scale, d_df;
};

// Chi-square draw of `df` degrees of freedom from the accepted normal g,
// and its derivative in df. Requires df >= 2.
inline void chi_square_from_normal(double df, double g, double& chi2, double& d_chi2) {
  const double shape = 0.5 * df;
  const double d = shape - 1.0 / 3.0, c = 1.0 / std::sqrt(9.0 * d);
  const double v = 1.0 + c * g;
  const double v3 = v * v * v;
  chi2 = 2.0 * d * v3;
  // d(chi2)/d(df) = d(gamma)/d(shape): product rule through d and c.
  d_chi2 = v3 + d * 3.0 * v * v * g * (-4.5 * c * c * c);
}

inline DrawGrad gaussian_draw(double mu, double scale, const DrawNoise& e) {
  return {mu + scale * e.u, 1.0, e.u, 0.0};
}

inline DrawGrad student_t_draw(double mu, double scale, double df, const DrawNoise& e) {
  double chi2, d_chi2;
  chi_square_from_normal(df, e.g, chi2, d_chi2);
  const double t = e.u * std::sqrt(df / chi2);
  const double dt_ddf = 0.5 * t * (1.0 / df - d_chi2 / chi2);
  return {mu + scale * t, 1.0, t, scale * dt_ddf};
}

inline DrawNoise draw_noise(bool student_t, double df, Rng& rng) {
  DrawNoise e;
  e.u = rng.normal();
  if (student_t) e.g = marsaglia_tsang_normal(0.5 * df, rng);
  return e;
}



}  // namespace deepmnar

#endif
