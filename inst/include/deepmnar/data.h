#ifndef DEEPMNAR_DATA_H
#define DEEPMNAR_DATA_H

#include <vector>

#include "components.h"

namespace deepmnar {

// Row-major copy of the data with missing cells zeroed (the encoder's input).
struct RowData {
  RowMat x, observed;
  explicit RowData(const deepmnar_io::DataView& v) : x(v.n, v.p), observed(v.n, v.p) {
    for (int j = 0; j < v.p; ++j)
      for (int i = 0; i < v.n; ++i) {
        const bool obs = v.observed[i + std::size_t(v.n) * j] != 0;
        observed(i, j) = obs ? 1.0 : 0.0;
        x(i, j) = obs ? v.x[i + std::size_t(v.n) * j] : 0.0;
      }
  }
  int n() const { return int(x.rows()); }
  int p() const { return int(x.cols()); }
};

inline void gather_rows(const RowData& data, const int* rows, int count, RowBlock& b) {
  b.x.resize(count, data.p());
  b.observed.resize(count, data.p());
  for (int r = 0; r < count; ++r) {
    b.x.row(r) = data.x.row(rows[r]);
    b.observed.row(r) = data.observed.row(rows[r]);
  }
}

}  // namespace deepmnar

#endif
