// The one list of the engine's models and options: the name R uses for each
// choice and the code the engine reads. R takes its codes from here
// (cpp_registry()), and every spec that crosses into the engine is checked
// against it (spec_problem()). Only the glue includes this file: the engine
// builds see the codes as the enums of io.h.
#ifndef DEEPMNAR_REGISTRY_H
#define DEEPMNAR_REGISTRY_H

#include <cmath>
#include <string>
#include <vector>

#include "io.h"

namespace deepmnar_io {

// Raised when what a fit holds changes meaning: 2 added per-column scale
// floors, point masses, binary columns and the relaxation temperature.
constexpr int kRegistryVersion = 2;

struct Choice {
  int code;
  const char* name;
};

struct Option {
  const char* field;       // the R argument
  const char* code_field;  // the spec's field that holds the code
  std::vector<Choice> choices;
};

inline const std::vector<Option>& registry_options() {
  static const std::vector<Option> options = {
      {"model", "model_code",
       {{model_notmiwae, "notmiwae"}, {model_gnr, "gnr"}, {model_not2miwae, "not2miwae"}, {model_psmvae, "psmvae"}}},
      {"missing_model", "missing_code",
       {{missing_none, "none"},
        {missing_selfmask, "selfmask"},
        {missing_selfmask_known, "selfmask_known"},
        {missing_linear, "linear"},
        {missing_nonlinear, "nonlinear"}}},
      {"obs", "obs_code", {{obs_gaussian, "gaussian"}, {obs_student_t, "t"}}},
      {"decoder", "decoder_code", {{decoder_mlp, "mlp"}, {decoder_linear, "linear"}}},
      {"activation", "activation_code", {{act_identity, "identity"}, {act_tanh, "tanh"}, {act_relu, "relu"}}},
      {"variant", "variant_code", {{psmvae_b, "b"}, {psmvae_a, "a"}}},
  };
  return options;
}

inline bool registered(const char* field, int code) {
  for (const Option& o : registry_options()) {
    if (std::string(o.field) != field) continue;
    for (const Choice& c : o.choices)
      if (c.code == code) return true;
  }
  return false;
}

// What is wrong with a spec, as "field: problem", or "" if nothing is.
inline std::string spec_problem(const ModelSpec& s) {
  const auto size_ok = [](int v, int max) { return v >= 1 && v <= max; };
  const auto widths_ok = [&](const std::vector<int>& w) {
    if (w.empty()) return false;
    for (int v : w)
      if (!size_ok(v, 4096)) return false;
    return true;
  };
  if (!registered("model", s.model)) return "model_code: not a registered model";
  if (!registered("missing_model", s.missing)) return "missing_code: not a registered missing model";
  if (!registered("obs", s.obs)) return "obs_code: not a registered observation model";
  if (!registered("decoder", s.decoder)) return "decoder_code: not a registered decoder";
  if (!registered("activation", s.activation)) return "activation_code: not a registered activation";
  if (!registered("variant", s.variant)) return "variant_code: not a registered PSMVAE variant";
  if (!size_ok(s.p, 100000)) return "p: not a column count";
  if (!size_ok(s.latent, 4096)) return "latent_dim: not a dimension";
  if (!widths_ok(s.hidden)) return "hidden: not a vector of layer widths";
  if (!widths_ok(s.missing_hidden)) return "missing_hidden: not a vector of layer widths";
  if (!size_ok(s.K2, 100000) || !size_ok(s.eta_dim, 4096) || !size_ok(s.k, 100)) return "K2, eta_dim or k: out of range";
  const std::size_t p = std::size_t(s.p);
  if (s.direction.size() != p) return "direction: not one value per column";
  for (double d : s.direction)
    if (d != 1.0 && d != -1.0) return "direction: not +1 or -1";
  if (s.sigma_floor.size() != p) return "sigma_floor: not one value per column";
  for (double f : s.sigma_floor)
    if (!(std::isfinite(f) && f >= 0)) return "sigma_floor: not a number >= 0";
  if (s.point_mass.size() != p) return "point_mass: not one value per column";
  for (double v : s.point_mass)
    if (std::isinf(v)) return "point_mass: infinite";
  if (s.binary_other.size() != p) return "binary_other: not one value per column";
  for (std::size_t j = 0; j < p; ++j) {
    if (std::isinf(s.binary_other[j])) return "binary_other: infinite";
    if (!std::isnan(s.binary_other[j]) && std::isnan(s.point_mass[j])) return "binary_other: a binary column without its point mass";
  }
  if (!(std::isfinite(s.temperature) && s.temperature > 0)) return "temperature: not a positive number";
  if (!(std::isfinite(s.alpha) && s.alpha >= 0)) return "alpha: not a number >= 0";
  if (!(s.pi_prime >= 0 && s.pi_prime <= 1)) return "pi_prime: not a probability";
  if (s.encoder_mask != 0 && s.encoder_mask != 1) return "encoder_mask: not 0 or 1";
  return "";
}

}  // namespace deepmnar_io

#endif
