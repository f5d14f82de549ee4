#ifndef DEEPMNAR_ADAM_H
#define DEEPMNAR_ADAM_H

#include <cmath>
#include <cstddef>

namespace deepmnar {

struct AdamConfig {
  double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
};

// One Adam step (ascent: `grad` is the gradient of the bound). `step` is the
// 1-based count of updates including this one.
inline void adam_ascent(double* theta, double* m, double* v, const double* grad, std::size_t n, long step,
                        const AdamConfig& cfg) {
  const double c1 = 1.0 - std::pow(cfg.beta1, double(step));
  const double c2 = 1.0 - std::pow(cfg.beta2, double(step));
  for (std::size_t i = 0; i < n; ++i) {
    m[i] = cfg.beta1 * m[i] + (1.0 - cfg.beta1) * grad[i];
    v[i] = cfg.beta2 * v[i] + (1.0 - cfg.beta2) * grad[i] * grad[i];
    theta[i] += cfg.lr * (m[i] / c1) / (std::sqrt(v[i] / c2) + cfg.eps);
  }
}

}  // namespace deepmnar

#endif
