#ifndef DEEPMNAR_DATA_H
#define DEEPMNAR_DATA_H

#include <cstdint>
#include <vector>

#include "components.h"

namespace deepmnar {

// The observed cells, row by row (compressed sparse rows), whichever form the
// data came in: a wide rating matrix with 5% of its cells rated then costs
// memory in its ratings, not in n x p, and a block of rows is made dense
// only when a batch needs it.
class RowData {
 public:
  explicit RowData(const deepmnar_io::DataView& v) : n_(v.n), p_(v.p), start_(std::size_t(v.n) + 1, 0) {
    if (v.row_start) copy_sparse(v);
    else copy_dense(v);
  }
  int n() const { return n_; }
  int p() const { return p_; }
  // The observed cells of row i: columns col(k) and values value(k) for k in [begin(i), end(i)).
  std::int64_t begin(int i) const { return start_[std::size_t(i)]; }
  std::int64_t end(int i) const { return start_[std::size_t(i) + 1]; }
  int col(std::int64_t k) const { return col_[std::size_t(k)]; }
  double value(std::int64_t k) const { return value_[std::size_t(k)]; }

 private:
  void copy_dense(const deepmnar_io::DataView& v) {
    for (int i = 0; i < n_; ++i) {
      for (int j = 0; j < p_; ++j) {
        const std::size_t at = std::size_t(i) + std::size_t(n_) * j;
        if (v.observed[at] == 0) continue;
        col_.push_back(j);
        value_.push_back(v.x[at]);
      }
      start_[std::size_t(i) + 1] = std::int64_t(col_.size());
    }
  }
  void copy_sparse(const deepmnar_io::DataView& v) {
    start_.assign(v.row_start, v.row_start + n_ + 1);
    col_.assign(v.col_index, v.col_index + v.row_start[n_]);
    value_.assign(v.values, v.values + v.row_start[n_]);
  }
  int n_, p_;
  std::vector<std::int64_t> start_;
  std::vector<int> col_;
  std::vector<double> value_;
};

// The listed rows as a dense block: values standardised, missing cells zero.
inline void gather_rows(const RowData& data, const int* rows, int count, RowBlock& b) {
  b.x.setZero(count, data.p());
  b.observed.setZero(count, data.p());
  for (int r = 0; r < count; ++r)
    for (std::int64_t k = data.begin(rows[r]); k < data.end(rows[r]); ++k) {
      b.x(r, data.col(k)) = data.value(k);
      b.observed(r, data.col(k)) = 1.0;
    }
}

}  // namespace deepmnar

#endif
