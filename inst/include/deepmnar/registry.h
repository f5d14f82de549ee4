// The one list of the engine's models and options: the code the engine
// reads and the name R uses for each choice, and what each model can do
// (model_capabilities()). R takes its codes and capabilities from here
// (cpp_registry()), and every spec that crosses into the engine is checked
// against it (spec_problem() in io.h).
//
// Cost of change, the source files an addition touches (generated man/ and
// RcppExports aside):
//   a mask model    3: its class in missing_models.h (its likelihood, its
//                   gradient, its start from the data), its code and name
//                   here, its choice and documentation in R/notmiwae.R.
//                   tests/testthat/test-cost-of-change.R holds the newest
//                   mask model to this.
//   a model         4: models/<name>.h, its code, name and capabilities
//                   here, its case in engine.h's with_model(), its R
//                   function R/<name>.R.
//   a column family more today: its density in components.h, its spec
//                   fields in io.h and glue.cpp, and its R handling in
//                   R/columns.R, R/fit.R, R/observation.R (one table of
//                   column models is still to come).
#ifndef DEEPMNAR_REGISTRY_H
#define DEEPMNAR_REGISTRY_H

#include <string>
#include <vector>

namespace deepmnar_io {

// Each option's codes, next to the names R uses for them below; a model's
// row in model_capabilities() says which of them it takes.
enum ObsModel { obs_gaussian = 0, obs_student_t = 1, obs_rating = 2 };
enum DecoderKind { decoder_mlp = 0, decoder_linear = 1 };
enum EncoderKind { encoder_mlp = 0, encoder_set = 1 };
enum MissingKind {
  missing_none = 0,
  missing_selfmask = 1,
  missing_selfmask_known = 2,
  missing_linear = 3,
  missing_nonlinear = 4,
  missing_selfmask_shared = 5,
  missing_mcar = 6,
  missing_mar = 7,
  missing_selfmask_quadratic = 8,
  missing_selfmask_mar = 9,
  missing_selfmask_activity = 10
};
enum ActivationKind { act_identity = 0, act_tanh = 1, act_relu = 2 };
enum ModelKind { model_notmiwae = 0, model_gnr = 1, model_not2miwae = 2, model_psmvae = 3 };
enum PsmvaeVariant { psmvae_b = 0, psmvae_a = 1 };
enum PrecisionKind { precision_double = 0, precision_float = 1 };

// Raised when what a fit holds changes meaning: 2 added per-column scale
// floors, point masses, binary columns and the relaxation temperature; 3 the
// rating columns' ranges, the shared self-masking slope, whose direction
// 0 (a sign learned) earlier versions would refuse as damage, and the set
// encoder (a fit without the option has the MLP encoder); 4 the mask models
// mcar, mar and selfmask_quadratic, and the choice among them; 5 a mask model
// that reads the latent variable (selfmask_activity).
constexpr int kRegistryVersion = 5;

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
        {missing_nonlinear, "nonlinear"},
        {missing_selfmask_shared, "selfmask_shared"},
        {missing_mcar, "mcar"},
        {missing_mar, "mar"},
        {missing_selfmask_quadratic, "selfmask_quadratic"},
        {missing_selfmask_mar, "selfmask_mar"},
        {missing_selfmask_activity, "selfmask_activity"}}},
      {"obs", "obs_code", {{obs_gaussian, "gaussian"}, {obs_student_t, "t"}, {obs_rating, "rating"}}},
      {"decoder", "decoder_code", {{decoder_mlp, "mlp"}, {decoder_linear, "linear"}}},
      {"encoder", "encoder_code", {{encoder_mlp, "mlp"}, {encoder_set, "set"}}},
      {"activation", "activation_code", {{act_identity, "identity"}, {act_tanh, "tanh"}, {act_relu, "relu"}}},
      {"variant", "variant_code", {{psmvae_b, "b"}, {psmvae_a, "a"}}},
      {"precision", "precision_code", {{precision_double, "double"}, {precision_float, "float"}}},
  };
  return options;
}

// What each model can do, read by R (cpp_registry()$capabilities) in place
// of branching on model names, and enforced on every spec by spec_problem():
//   observations      the observation models (ObsModel) it takes
//   categorical_obs   obs = "categorical" in R: every column's values as the
//                     levels of a factor (factor columns work in every model)
//   point_masses      point masses and binary (Bernoulli) columns; without
//                     them a binary column is a two-level factor
//   mask_models       the mask models (MissingKind) of its spec
//   encoders          EncoderKind codes
//   batch_size        its default minibatch (PSMVAE's paper trains on larger
//                     minibatches than the IWAE-based models')
//   learns_mask       every fit learns a mask mechanism (so starts matter);
//                     not-MIWAE's depends on its mask model
//   score             what its held-out score is: "bound" (an importance-
//                     weighted bound on log p(x_obs, s)) or "elbo"
struct Capabilities {
  int model;
  std::vector<int> observations;
  bool categorical_obs;
  bool point_masses;
  std::vector<int> mask_models;
  std::vector<int> encoders;
  int batch_size;
  bool learns_mask;
  const char* score;
};

inline const std::vector<Capabilities>& model_capabilities() {
  static const std::vector<Capabilities> table = {
      {model_notmiwae, {obs_gaussian, obs_student_t, obs_rating}, true, true,
       {missing_none, missing_selfmask, missing_selfmask_known, missing_linear, missing_nonlinear,
        missing_selfmask_shared, missing_mcar, missing_mar, missing_selfmask_quadratic, missing_selfmask_mar,
        missing_selfmask_activity},
       {encoder_mlp, encoder_set}, 16, false, "bound"},
      {model_gnr, {obs_gaussian, obs_student_t, obs_rating}, true, true, {missing_none}, {encoder_mlp, encoder_set}, 16,
       true, "bound"},
      {model_not2miwae, {obs_gaussian, obs_student_t, obs_rating}, false, true, {missing_none}, {encoder_mlp, encoder_set}, 16, true,
       "bound"},
      {model_psmvae, {obs_gaussian, obs_rating}, true, false, {missing_none}, {encoder_mlp, encoder_set}, 64, true,
       "elbo"},
  };
  return table;
}

// The mask models with one self-masking slope for every column, whose
// direction may be 0 (its sign learned).
inline const std::vector<int>& shared_slope_mask_models() {
  static const std::vector<int> codes = {missing_selfmask_shared, missing_selfmask_activity};
  return codes;
}

inline const Capabilities* capabilities_of(int model) {
  for (const Capabilities& c : model_capabilities())
    if (c.model == model) return &c;
  return nullptr;
}

inline bool has_code(const std::vector<int>& codes, int code) {
  for (int c : codes)
    if (c == code) return true;
  return false;
}

inline bool registered(const char* field, int code) {
  for (const Option& o : registry_options()) {
    if (std::string(o.field) != field) continue;
    for (const Choice& c : o.choices)
      if (c.code == code) return true;
  }
  return false;
}

}  // namespace deepmnar_io

#endif
