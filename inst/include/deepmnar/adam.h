#ifndef DEEPMNAR_ADAM_H
#define DEEPMNAR_ADAM_H

#include <Eigen/Dense>
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
  using Arr = Eigen::Map<Eigen::ArrayXd>;
  Arr th(theta, n), mm(m, n), vv(v, n);
  const Eigen::Map<const Eigen::ArrayXd> g(grad, n);
  mm = cfg.beta1 * mm + (1.0 - cfg.beta1) * g;
  vv = cfg.beta2 * vv + (1.0 - cfg.beta2) * g.square();
  th += (cfg.lr / c1) * mm / ((vv / c2).sqrt() + cfg.eps);
}

}  // namespace deepmnar

#endif
