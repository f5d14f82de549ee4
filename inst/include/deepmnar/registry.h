// The one list of the engine's models and options: the code the engine
// reads and the name R uses for each choice. R takes its codes from here
// (cpp_registry()), and every spec that crosses into the engine is checked
// against it (spec_problem() in io.h).
#ifndef DEEPMNAR_REGISTRY_H
#define DEEPMNAR_REGISTRY_H

#include <string>
#include <vector>

namespace deepmnar_io {

// Each option's codes, next to the names R uses for them below: adding a
// model or a missing model is one code here, one name in registry_options(),
// its header under models/ (or missing_models.h) and its R function.
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
  missing_selfmask_quadratic = 8
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
// mcar, mar and selfmask_quadratic, and the choice among them.
constexpr int kRegistryVersion = 4;

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
        {missing_selfmask_quadratic, "selfmask_quadratic"}}},
      {"obs", "obs_code", {{obs_gaussian, "gaussian"}, {obs_student_t, "t"}, {obs_rating, "rating"}}},
      {"decoder", "decoder_code", {{decoder_mlp, "mlp"}, {decoder_linear, "linear"}}},
      {"encoder", "encoder_code", {{encoder_mlp, "mlp"}, {encoder_set, "set"}}},
      {"activation", "activation_code", {{act_identity, "identity"}, {act_tanh, "tanh"}, {act_relu, "relu"}}},
      {"variant", "variant_code", {{psmvae_b, "b"}, {psmvae_a, "a"}}},
      {"precision", "precision_code", {{precision_double, "double"}, {precision_float, "float"}}},
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

}  // namespace deepmnar_io

#endif
