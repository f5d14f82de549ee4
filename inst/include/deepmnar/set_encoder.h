// The permutation-invariant encoder of q(z | x^o) of Ma et al. (2018, 2019;
// the Partial VAE's "PNP" set function), which the not-MIWAE and GNR papers
// use for ratings. Each observed cell (item j, value x_j) of a row is a pair
// with input s_j = [e_j, x_j e_j], e_j a learned embedding of item j; its code
// is relu(s_j W + b); the row's codes are summed, and the Gaussian encoder's
// network maps the sum to (mu, log_var). A missing cell is no pair at all, so
// the encoder neither reads a fill value nor needs the mask, and a row with
// no observed cell has the zero code. Only observed cells are embedded and
// coded: the cost of a row grows with its observed cells, not with p.
#ifndef DEEPMNAR_SET_ENCODER_H
#define DEEPMNAR_SET_ENCODER_H

#include <cmath>
#include <vector>

#include "components.h"

namespace deepmnar {

// A forward pass's pairs, kept for the backward pass (per workspace, so per
// thread).
struct SetCache {
  std::vector<Eigen::Index> row_start;  // the pairs of row r are row_start[r] .. row_start[r + 1] - 1
  std::vector<int> item;                // per pair: its column
  std::vector<double> value;            // per pair: x_j
  RowMat pair_in, pair_code, pooled;    // per pair: s_j and its code; per row: the summed code
  RowMat d_pooled, d_code, d_pair_in;
};

// The pair codes summed per row: the part of the set encoder that replaces
// the zero-filled row (and mask) as what a recognition network reads. Its
// parameters are the blocks "item_embedding" and "pair_code".
class SetCode {
 public:
  SetCode() = default;
  SetCode(int p, int embedding, int code, ParamLayout& layout) : p_(p), embedding_(embedding) {
    layout.part("item_embedding");
    embedding_offset_ = layout.take(std::size_t(p) * std::size_t(embedding));
    layout.part("pair_code");
    pair_ = Dense(2 * embedding, code, layout);
  }

  int width() const { return pair_.out; }

  // Embeddings of about unit length (entries of variance 1 / embedding), so
  // that a pair's code starts small and a row's sum of tens of codes stays
  // where the next network's activations are not saturated.
  void init(double* theta, Rng& rng) const {
    const double limit = std::sqrt(3.0 / embedding_);
    const std::size_t n = std::size_t(p_) * std::size_t(embedding_);
    for (std::size_t i = 0; i < n; ++i) theta[embedding_offset_ + i] = limit * (2.0 * rng.uniform() - 1.0);
    pair_.init(theta, rng);
  }

  // c.pooled: one summed code per row.
  void forward(const double* theta, const RowMat& x, const RowMat& observed, SetCache& c) const {
    collect_pairs(x, observed, c);
    const CMapRowMat items(theta + embedding_offset_, p_, embedding_);
    const Eigen::Index P = Eigen::Index(c.item.size());
    c.pair_in.resize(P, 2 * embedding_);
    for (Eigen::Index q = 0; q < P; ++q) {
      const auto e_j = items.row(c.item[std::size_t(q)]);
      c.pair_in.row(q).head(embedding_) = e_j;
      c.pair_in.row(q).tail(embedding_) = c.value[std::size_t(q)] * e_j;
    }
    pair_.forward(theta, c.pair_in, c.pair_code, Activation::relu);
    c.pooled.setZero(x.rows(), pair_.out);
    for (Eigen::Index r = 0; r < x.rows(); ++r)
      for (Eigen::Index q = c.row_start[std::size_t(r)]; q < c.row_start[std::size_t(r) + 1]; ++q)
        c.pooled.row(r) += c.pair_code.row(q);
  }

  // From c.d_pooled (per row): the gradient of a summed code reaches every
  // pair of its row.
  void backward(const double* theta, double* grad, SetCache& c) const {
    c.d_code.resize(c.pair_code.rows(), c.pair_code.cols());
    for (Eigen::Index r = 0; r < c.pooled.rows(); ++r)
      for (Eigen::Index q = c.row_start[std::size_t(r)]; q < c.row_start[std::size_t(r) + 1]; ++q)
        c.d_code.row(q) = c.d_pooled.row(r);
    activation_backward(Activation::relu, c.pair_code, c.d_code);
    pair_.backward(theta, c.pair_in, c.d_code, grad, &c.d_pair_in);
    MapRowMat d_items(grad + embedding_offset_, p_, embedding_);
    for (Eigen::Index q = 0; q < c.d_pair_in.rows(); ++q) {
      const auto d_s = c.d_pair_in.row(q);
      d_items.row(c.item[std::size_t(q)]) += d_s.head(embedding_) + c.value[std::size_t(q)] * d_s.tail(embedding_);
    }
  }

 private:
  // The observed cells of every row, row by row in column order.
  static void collect_pairs(const RowMat& x, const RowMat& observed, SetCache& c) {
    c.row_start.assign(1, 0);
    c.item.clear();
    c.value.clear();
    for (Eigen::Index r = 0; r < x.rows(); ++r) {
      for (int j = 0; j < int(x.cols()); ++j) {
        if (!(observed(r, j) > 0)) continue;
        c.item.push_back(j);
        c.value.push_back(x(r, j));
      }
      c.row_start.push_back(Eigen::Index(c.item.size()));
    }
  }

  int p_ = 0, embedding_ = 0;
  std::size_t embedding_offset_ = 0;
  Dense pair_;
};

// q(z | x^o): the summed code through the Gaussian encoder's network.
class SetEncoder {
 public:
  SetEncoder() = default;
  SetEncoder(int p, int embedding, int code, const std::vector<int>& hidden, int latent, Activation act,
             ParamLayout& layout)
      : code_(p, embedding, code, layout) {
    layout.part("encoder");
    head_ = GaussianEncoder(code, hidden, latent, act, layout);
  }

  void init(double* theta, Rng& rng) const {
    code_.init(theta, rng);
    head_.init(theta, rng);
  }

  void forward(const double* theta, const RowMat& x, const RowMat& observed, EncoderOutput& e, SetCache& c) const {
    code_.forward(theta, x, observed, c);
    head_.forward(theta, c.pooled, e);
  }

  // d_mu and d_log_var per row, as GaussianEncoder::backward.
  void backward(const double* theta, EncoderOutput& e, const RowMat& d_mu, const RowMat& d_log_var, double* grad,
                SetCache& c) const {
    head_.backward(theta, c.pooled, e, d_mu, d_log_var, grad, &c.d_pooled);
    code_.backward(theta, grad, c);
  }

 private:
  SetCode code_;
  GaussianEncoder head_;
};

}  // namespace deepmnar

#endif
