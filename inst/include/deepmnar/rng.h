// Counter-based reproducible streams: every (seed, purpose, a, b) tuple gets
// its own generator, so the noise a row sees does not depend on which thread
// runs it or on how rows are grouped.
#ifndef DEEPMNAR_RNG_H
#define DEEPMNAR_RNG_H

#include <cmath>
#include <cstdint>

namespace deepmnar {

inline std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

inline std::uint64_t mix_key(std::uint64_t seed, std::uint64_t purpose,
                             std::uint64_t a, std::uint64_t b) {
  std::uint64_t s = seed;
  std::uint64_t h = splitmix64(s);
  s = h ^ (purpose * 0xd1342543de82ef95ULL);
  h = splitmix64(s);
  s = h ^ a;
  h = splitmix64(s);
  s = h ^ (b * 0x9e3779b97f4a7c15ULL);
  return splitmix64(s);
}

enum StreamPurpose : std::uint64_t {
  stream_init = 1,
  stream_shuffle = 2,
  stream_train_row = 3,
  stream_impute_row = 4,
  stream_resample_row = 5,
  stream_bound_row = 6
};

// xoshiro256++ with Marsaglia's polar method for normals.
class Rng {
 public:
  explicit Rng(std::uint64_t key) {
    std::uint64_t s = key;
    for (auto& w : s_) w = splitmix64(s);
  }
  Rng(std::uint64_t seed, std::uint64_t purpose, std::uint64_t a, std::uint64_t b = 0)
      : Rng(mix_key(seed, purpose, a, b)) {}

  std::uint64_t next() {
    const std::uint64_t result = rotl(s_[0] + s_[3], 23) + s_[0];
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  // Uniform on the open interval (0, 1).
  double uniform() { return ((next() >> 11) + 0.5) * (1.0 / 9007199254740992.0); }

  std::uint64_t below(std::uint64_t n) { return next() % n; }

  double normal() {
    if (has_spare_) {
      has_spare_ = false;
      return spare_;
    }
    double u, v, r2;
    do {
      u = 2.0 * uniform() - 1.0;
      v = 2.0 * uniform() - 1.0;
      r2 = u * u + v * v;
    } while (r2 >= 1.0 || r2 == 0.0);
    const double f = std::sqrt(-2.0 * std::log(r2) / r2);
    spare_ = v * f;
    has_spare_ = true;
    return u * f;
  }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::uint64_t s_[4];
  double spare_ = 0.0;
  bool has_spare_ = false;
};

}  // namespace deepmnar

#endif
