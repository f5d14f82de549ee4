// Dense layers and multilayer perceptrons whose weights are views into one
// flat parameter vector. Activations are row-major (one sample per row).
#ifndef DEEPMNAR_NN_H
#define DEEPMNAR_NN_H

#ifndef EIGEN_DONT_PARALLELIZE
#define EIGEN_DONT_PARALLELIZE
#endif

#include <Eigen/Dense>
#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

#include "io.h"
#include "rng.h"

namespace deepmnar {

using RowMat = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using RowVec = Eigen::Matrix<double, 1, Eigen::Dynamic>;
using MapRowMat = Eigen::Map<RowMat>;
using CMapRowMat = Eigen::Map<const RowMat>;
using MapRowVec = Eigen::Map<RowVec>;
using CMapRowVec = Eigen::Map<const RowVec>;
using RowMatF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using RowVecF = Eigen::Matrix<float, 1, Eigen::Dynamic>;

// Hands out consecutive slices of the flat parameter vector.
// Hands out consecutive ranges of the flat parameter vector and records them
// under the name of the component being built (`part()`), so that R reads
// where, e.g., the self-masking slopes sit instead of assuming an order.
// The layout also tells the networks built on it their arithmetic: double,
// or single precision inside the multilayer perceptrons.
class ParamLayout {
 public:
  explicit ParamLayout(bool single_precision = false) : single_(single_precision) {}
  void part(const std::string& name) { name_ = name; }
  bool single_precision() const { return single_; }

  std::size_t take(std::size_t n) {
    const std::size_t at = size_;
    size_ += n;
    if (!blocks_.empty() && blocks_.back().name == name_ && blocks_.back().offset + blocks_.back().size == at)
      blocks_.back().size += n;
    else
      blocks_.push_back({name_, at, n});
    return at;
  }
  std::size_t size() const { return size_; }
  const std::vector<deepmnar_io::ParamBlock>& blocks() const { return blocks_; }

 private:
  bool single_ = false;
  std::size_t size_ = 0;
  std::string name_ = "parameters";
  std::vector<deepmnar_io::ParamBlock> blocks_;
};

enum class Activation { identity, tanh, relu };

inline Activation activation_from(int kind) {
  switch (kind) {
    case deepmnar_io::act_tanh: return Activation::tanh;
    case deepmnar_io::act_relu: return Activation::relu;
    default: return Activation::identity;
  }
}

// tanh is computed as 1 - 2 / (exp(2x) + 1) (in Dense::forward): Eigen
// vectorises tanh only for float, while its exp is vectorised in double too;
// this form is several times faster, with an error near 4e-16, and saturates
// correctly (exp overflow gives exactly 1).

// Multiplies `grad` (d loss / d output) by the activation's derivative, which
// for these activations is a function of the output alone.
template <class Mat>
void activation_backward(Activation act, const Mat& out, Mat& grad) {
  using Scalar = typename Mat::Scalar;
  if (act == Activation::tanh) grad.array() *= Scalar(1) - out.array().square();
  else if (act == Activation::relu) grad.array() *= (out.array() > Scalar(0)).template cast<Scalar>();
}

// y = act(y + b), row by row.
template <class Mat, class Bias>
void add_bias_and_activate(Mat& y, const Bias& b, Activation act) {
  using Scalar = typename Mat::Scalar;
  for (Eigen::Index r = 0; r < y.rows(); ++r) {
    auto row = y.row(r).array();
    switch (act) {
      case Activation::tanh: row = Scalar(1) - Scalar(2) / ((Scalar(2) * (row + b)).exp() + Scalar(1)); break;
      case Activation::relu: row = (row + b).max(Scalar(0)); break;
      default: row += b; break;
    }
  }
}

struct Dense {
  std::size_t offset = 0;
  int in = 0, out = 0;

  Dense() = default;
  Dense(int in_, int out_, ParamLayout& layout)
      : offset(layout.take(static_cast<std::size_t>(in_) * out_ + out_)), in(in_), out(out_) {}

  CMapRowMat weight(const double* theta) const { return CMapRowMat(theta + offset, in, out); }
  CMapRowVec bias(const double* theta) const { return CMapRowVec(theta + offset + std::size_t(in) * out, out); }
  MapRowMat weight(double* g) const { return MapRowMat(g + offset, in, out); }
  MapRowVec bias(double* g) const { return MapRowVec(g + offset + std::size_t(in) * out, out); }

  // Glorot-uniform weights and zero biases (the Keras default the papers used).
  void init(double* theta, Rng& rng) const {
    const double limit = std::sqrt(6.0 / (in + out));
    const std::size_t nw = std::size_t(in) * out;
    for (std::size_t i = 0; i < nw; ++i) theta[offset + i] = limit * (2.0 * rng.uniform() - 1.0);
    for (int j = 0; j < out; ++j) theta[offset + nw + j] = 0.0;
  }

  // y = act(x W + b), the bias and the activation applied in one pass per row.
  template <class In>
  void forward(const double* theta, const Eigen::MatrixBase<In>& x, RowMat& y,
               Activation act = Activation::identity) const {
    y.resize(x.rows(), out);
    y.noalias() = x * weight(theta);
    add_bias_and_activate(y, bias(theta).array(), act);
  }

  // Accumulates parameter gradients; writes the input gradient if asked.
  template <class In>
  void backward(const double* theta, const Eigen::MatrixBase<In>& x, const RowMat& dy, double* grad,
                RowMat* dx) const {
    weight(grad).noalias() += x.transpose() * dy;
    bias(grad) += dy.colwise().sum();
    if (dx) {
      dx->resize(dy.rows(), in);
      dx->noalias() = dy * weight(theta).transpose();
    }
  }
};

// Activations of one pass, kept for the backward pass. In single precision
// the layers' outputs, the input and the weights (cast once per forward) are
// kept in float, and only the last output in double (out.back()).
struct MlpCache {
  std::vector<RowMat> out;  // out[l] = output of layer l (after its activation)
  RowMat grad, grad_next;
  std::vector<RowMatF> out_f, weight_f, weight_grad_f;
  std::vector<RowVecF> bias_f;
  RowMatF x_f, grad_f, grad_next_f;
};

// Hidden layers with a shared activation and a linear output layer. In
// single precision (from the layout) the products and activations run in
// float, about twice as many per vector instruction; parameters, their
// gradients and everything outside the network stay double.
class Mlp {
 public:
  Mlp() = default;
  Mlp(int in, const std::vector<int>& hidden, int out, Activation act, ParamLayout& layout)
      : act_(act), single_(layout.single_precision()) {
    int width = in;
    for (int h : hidden) {
      layers_.emplace_back(width, h, layout);
      width = h;
    }
    layers_.emplace_back(width, out, layout);
  }

  int in_dim() const { return layers_.front().in; }
  int out_dim() const { return layers_.back().out; }

  void init(double* theta, Rng& rng) const {
    for (const Dense& l : layers_) l.init(theta, rng);
  }

  template <class In>
  const RowMat& forward(const double* theta, const Eigen::MatrixBase<In>& x, MlpCache& c) const {
    if (single_) return forward_single(theta, x, c);
    c.out.resize(layers_.size());
    for (std::size_t l = 0; l < layers_.size(); ++l) {
      const Activation act = layer_activation(l);
      if (l == 0) layers_[0].forward(theta, x, c.out[0], act);
      else layers_[l].forward(theta, c.out[l - 1], c.out[l], act);
    }
    return c.out.back();
  }

  // `d_out` is d loss / d output of the last forward(); it is consumed.
  template <class In>
  void backward(const double* theta, const Eigen::MatrixBase<In>& x, MlpCache& c, RowMat& d_out, double* grad,
                RowMat* d_in) const {
    if (single_) return backward_single(c, d_out, grad, d_in);
    c.grad.swap(d_out);
    for (std::size_t l = layers_.size(); l-- > 0;) {
      if (l + 1 < layers_.size()) activation_backward(act_, c.out[l], c.grad);
      RowMat* dx = (l > 0) ? &c.grad_next : d_in;
      if (l > 0) layers_[l].backward(theta, c.out[l - 1], c.grad, grad, dx);
      else layers_[0].backward(theta, x, c.grad, grad, dx);
      if (l > 0) c.grad.swap(c.grad_next);
    }
  }

 private:
  Activation layer_activation(std::size_t l) const {
    return (l + 1 < layers_.size()) ? act_ : Activation::identity;
  }

  template <class In>
  const RowMat& forward_single(const double* theta, const Eigen::MatrixBase<In>& x, MlpCache& c) const {
    const std::size_t n = layers_.size();
    c.out.resize(n);
    c.out_f.resize(n);
    c.weight_f.resize(n);
    c.bias_f.resize(n);
    c.x_f = x.template cast<float>();
    for (std::size_t l = 0; l < n; ++l) {
      c.weight_f[l] = layers_[l].weight(theta).template cast<float>();
      c.bias_f[l] = layers_[l].bias(theta).template cast<float>();
      const RowMatF& in = (l == 0) ? c.x_f : c.out_f[l - 1];
      c.out_f[l].resize(in.rows(), layers_[l].out);
      c.out_f[l].noalias() = in * c.weight_f[l];
      add_bias_and_activate(c.out_f[l], c.bias_f[l].array(), layer_activation(l));
    }
    c.out.back() = c.out_f.back().template cast<double>();
    return c.out.back();
  }

  // The backward pass of forward_single(), from the float copies it kept.
  void backward_single(MlpCache& c, const RowMat& d_out, double* grad, RowMat* d_in) const {
    c.grad_f = d_out.template cast<float>();
    c.weight_grad_f.resize(layers_.size());
    for (std::size_t l = layers_.size(); l-- > 0;) {
      if (l + 1 < layers_.size()) activation_backward(act_, c.out_f[l], c.grad_f);
      const RowMatF& in = (l == 0) ? c.x_f : c.out_f[l - 1];
      // into a buffer kept per layer: a fresh temporary per layer and call
      // costs more in allocation and page faults than the cast
      c.weight_grad_f[l].noalias() = in.transpose() * c.grad_f;
      layers_[l].weight(grad) += c.weight_grad_f[l].template cast<double>();
      layers_[l].bias(grad) += c.grad_f.colwise().sum().template cast<double>();
      if (l > 0) {
        c.grad_next_f.noalias() = c.grad_f * c.weight_f[l].transpose();
        c.grad_f.swap(c.grad_next_f);
      } else if (d_in) {
        *d_in = (c.grad_f * c.weight_f[0].transpose()).template cast<double>();
      }
    }
  }

  std::vector<Dense> layers_;
  Activation act_ = Activation::tanh;
  bool single_ = false;
};

}  // namespace deepmnar

#endif
