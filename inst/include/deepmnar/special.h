// Scalar special functions, written here so that they are thread-safe (glibc's
// lgamma writes the global `signgam`) and behave identically everywhere.
#ifndef DEEPMNAR_SPECIAL_H
#define DEEPMNAR_SPECIAL_H

#include <cmath>
#include <limits>

namespace deepmnar {

constexpr double kLogTwoPi = 1.8378770664093454836;
constexpr double kLogPi = 1.1447298858494001741;

inline double softplus(double x) { return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x)); }
// As R's qlogis(p), to the bit: log(p / (1 - p)).
inline double logit(double p) { return std::log(p / (1.0 - p)); }
inline double sigmoid(double x) {
  if (x >= 0) return 1.0 / (1.0 + std::exp(-x));
  const double e = std::exp(x);
  return e / (1.0 + e);
}

// log Gamma(x) for x > 0: shift up until Stirling's series is exact to rounding.
inline double log_gamma(double x) {
  double shift = 0.0;
  while (x < 10.0) {
    shift += std::log(x);
    x += 1.0;
  }
  const double r = 1.0 / x, r2 = r * r;
  const double series = r * (1.0 / 12 - r2 * (1.0 / 360 - r2 * (1.0 / 1260 - r2 / 1680)));
  return (x - 0.5) * std::log(x) - x + 0.5 * kLogTwoPi + series - shift;
}

inline double digamma(double x) {
  double shift = 0.0;
  while (x < 10.0) {
    shift += 1.0 / x;
    x += 1.0;
  }
  const double r = 1.0 / x, r2 = r * r;
  const double series = r2 * (1.0 / 12 - r2 * (1.0 / 120 - r2 * (1.0 / 252 - r2 * (1.0 / 240 - r2 / 132))));
  return std::log(x) - 0.5 * r - series - shift;
}

// Continued fraction of the regularised incomplete beta (modified Lentz).
inline double incomplete_beta_cf(double a, double b, double x) {
  const double tiny = 1e-300;
  double c = 1.0, d = 1.0 - (a + b) * x / (a + 1.0);
  if (std::fabs(d) < tiny) d = tiny;
  d = 1.0 / d;
  double h = d;
  for (int m = 1; m <= 300; ++m) {
    const double m2 = 2.0 * m;
    double coef = m * (b - m) * x / ((a + m2 - 1.0) * (a + m2));
    d = 1.0 + coef * d;
    if (std::fabs(d) < tiny) d = tiny;
    c = 1.0 + coef / c;
    if (std::fabs(c) < tiny) c = tiny;
    d = 1.0 / d;
    h *= d * c;
    coef = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1.0));
    d = 1.0 + coef * d;
    if (std::fabs(d) < tiny) d = tiny;
    c = 1.0 + coef / c;
    if (std::fabs(c) < tiny) c = tiny;
    d = 1.0 / d;
    const double delta = d * c;
    h *= delta;
    if (std::fabs(delta - 1.0) < 1e-15) break;
  }
  return h;
}

inline double incomplete_beta(double a, double b, double x) {
  if (x <= 0.0) return 0.0;
  if (x >= 1.0) return 1.0;
  const double log_front = log_gamma(a + b) - log_gamma(a) - log_gamma(b) + a * std::log(x) +
                           b * std::log1p(-x);
  if (x < (a + 1.0) / (a + b + 2.0)) return std::exp(log_front) * incomplete_beta_cf(a, b, x) / a;
  return 1.0 - std::exp(log_front) * incomplete_beta_cf(b, a, 1.0 - x) / b;
}

inline double normal_cdf(double z) { return 0.5 * std::erfc(-z * 0.7071067811865475244); }

inline double student_t_cdf(double t, double df) {
  const double tail = 0.5 * incomplete_beta(0.5 * df, 0.5, df / (df + t * t));
  return t > 0 ? 1.0 - tail : tail;
}

}  // namespace deepmnar

#endif
