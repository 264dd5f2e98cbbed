// The C API (include/vireo/vireo.h) over the C++ one (include/vireo/vireo.hpp):
// each handle holds the C++ object, each function runs inside guarded(),
// which turns every exception into a status and this thread's last error.
#include "vireo/vireo.h"

#include <cmath>
#include <exception>
#include <limits>
#include <new>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "vireo/vireo.hpp"

struct vireo_model {
  vireo::Model model;
};
struct vireo_data {
  vireo::Data data;
};
struct vireo_options {
  vireo::FitOptions options;
};
struct vireo_host_functions {
  vireo::HostFunctions hosts;
};
struct vireo_fit {
  vireo::Fit fit;
  std::string text;  // the last string handed out (vireo.h: owned by the handle)
};

namespace {

struct LastError {
  std::string message, file, hint;
  int kind = VIREO_OK, line = 0, column = 0;
};
thread_local LastError last_error;

int fail(int kind, std::string message) {
  last_error = LastError{};
  last_error.kind = kind;
  last_error.message = std::move(message);
  return kind;
}

int usage(const char* what) { return fail(VIREO_USAGE, std::string("vireo: usage: ") + what); }

// Runs `body` (which returns a status), catching everything.
template <class Body>
int guarded(Body&& body) noexcept {
  try {
    return body();
  } catch (const vireo::Error& e) {
    try {
      const int kind = e.kind() == vireo::Error::Kind::Limit ? VIREO_LIMIT : static_cast<int>(e.kind()) + 1;
      fail(kind, e.what());
      if (!e.diagnostics().empty()) {
        const vireo::Diagnostic& d = e.diagnostics().front();
        last_error.file = d.file;
        last_error.line = d.line;
        last_error.column = d.column;
        last_error.hint = d.hint;
      }
      return kind;
    } catch (...) {
      return VIREO_INTERNAL;
    }
  } catch (const std::bad_alloc&) {
    last_error = LastError{};
    last_error.kind = VIREO_INTERNAL;
    return VIREO_INTERNAL;  // no message: building one could fail too
  } catch (const std::exception& e) {
    try {
      return fail(VIREO_INTERNAL, std::string("vireo: internal error: ") + e.what());
    } catch (...) {
      return VIREO_INTERNAL;
    }
  } catch (...) {
    try {
      return fail(VIREO_INTERNAL, "vireo: internal error: unknown exception");
    } catch (...) {
      return VIREO_INTERNAL;
    }
  }
}

// Sets a typed option from its spelling: `parse` throws vireo::Error
// (Options) for a bad one, which becomes the call's status and last error.
template <class Parse>
int set_parsed(vireo_options* o, const char* value, const char* what, Parse parse) {
  if (!o || !value) return usage(what);
  return guarded([&] {
    parse(o->options, std::string(value));
    return VIREO_OK;
  });
}

}  // namespace

extern "C" {

const char* vireo_version(void) { return vireo::version(); }

const char* vireo_last_error_message(void) { return last_error.message.c_str(); }
int vireo_last_error_kind(void) { return last_error.kind; }
const char* vireo_last_error_file(void) { return last_error.file.c_str(); }
int vireo_last_error_line(void) { return last_error.line; }
int vireo_last_error_column(void) { return last_error.column; }
const char* vireo_last_error_hint(void) { return last_error.hint.c_str(); }

int vireo_model_from_file(const char* path, vireo_model** out) {
  if (!path || !out) return usage("vireo_model_from_file: path and out must not be NULL");
  return guarded([&] {
    *out = new vireo_model{vireo::Model::from_file(path)};
    return VIREO_OK;
  });
}

int vireo_model_from_string(const char* text, const char* name, vireo_model** out) {
  if (!text || !out) return usage("vireo_model_from_string: text and out must not be NULL");
  return guarded([&] {
    *out = new vireo_model{vireo::Model::from_string(text, name ? name : "<string>")};
    return VIREO_OK;
  });
}

void vireo_model_free(vireo_model* model) { delete model; }

int vireo_host_functions_new(vireo_host_functions** out) {
  if (!out) return usage("vireo_host_functions_new: NULL out");
  return guarded([&] {
    *out = new vireo_host_functions{};
    return VIREO_OK;
  });
}

void vireo_host_functions_free(vireo_host_functions* hosts) { delete hosts; }

int vireo_host_functions_add(vireo_host_functions* hosts, const char* name, size_t n_params,
                             const char* const* param_names, const int64_t* const* param_shapes,
                             const size_t* param_ranks, const int64_t* result_shape, size_t result_rank,
                             vireo_host_value_fn value, vireo_host_gradient_fn gradient, void* user_data) {
  if (!hosts || !name || !value || (n_params > 0 && (!param_names || !param_shapes || !param_ranks)) ||
      (result_rank > 0 && !result_shape))
    return usage("vireo_host_functions_add: hosts, name, value and the shapes must not be NULL");
  return guarded([&] {
    vireo::HostFunction f;
    f.name = name;
    for (size_t i = 0; i < n_params; ++i) {
      if (!param_names[i] || (param_ranks[i] > 0 && !param_shapes[i]))
        return usage("vireo_host_functions_add: a parameter's name or shape is NULL");  // int
      f.params.push_back({param_names[i], std::vector<std::int64_t>(param_shapes[i], param_shapes[i] + param_ranks[i])});
    }
    f.result.assign(result_shape, result_shape + result_rank);
    for (std::int64_t d : f.result)
      if (d < 0) return usage("vireo_host_functions_add: the result's extents must be >= 0");
    // Pointers to the arguments' values, as the C callbacks take them.
    struct Views {
      std::vector<const double*> data;
      std::vector<size_t> sizes;
      explicit Views(const std::vector<vireo::Array>& args) {
        for (const auto& a : args) data.push_back(a.values.data()), sizes.push_back(a.values.size());
      }
    };
    f.value = [value, user_data, shape = f.result](const std::vector<vireo::Array>& args) {
      Views v(args);
      std::size_t n = 1;
      for (std::int64_t d : shape) n *= static_cast<std::size_t>(d);
      vireo::Array out{shape, std::vector<double>(n, 0.0)};
      if (value(user_data, args.size(), v.data.data(), v.sizes.data(), out.values.data(), n) != 0)
        throw std::runtime_error("the C function returned an error");
      return out;
    };
    if (gradient)
      f.gradient = [gradient, user_data](const std::vector<vireo::Array>& args, const vireo::Array& result,
                                         const vireo::Array& adjoint) {
        Views v(args);
        std::vector<vireo::Array> grads;
        std::vector<double*> ptrs;
        for (const auto& a : args) grads.push_back({a.shape, std::vector<double>(a.values.size(), 0.0)});
        for (auto& g : grads) ptrs.push_back(g.values.data());
        if (gradient(user_data, args.size(), v.data.data(), v.sizes.data(), result.values.data(),
                     adjoint.values.data(), result.values.size(), ptrs.data()) != 0)
          throw std::runtime_error("the C gradient function returned an error");
        return grads;
      };
    hosts->hosts.add(std::move(f));
    return static_cast<int>(VIREO_OK);
  });
}

int vireo_model_from_string_with_hosts(const char* text, const char* name, const vireo_host_functions* hosts,
                                       vireo_model** out) {
  if (!text || !hosts || !out) return usage("vireo_model_from_string_with_hosts: text, hosts and out must not be NULL");
  return guarded([&] {
    *out = new vireo_model{vireo::Model::from_string(text, name ? name : "<string>", hosts->hosts)};
    return VIREO_OK;
  });
}

int vireo_data_from_json_string(const vireo_model* model, const char* json, const char* name, vireo_data** out) {
  if (!model || !json || !out) return usage("vireo_data_from_json_string: model, json and out must not be NULL");
  return guarded([&] {
    *out = new vireo_data{vireo::Data::from_json_string(model->model, json, name ? name : "<data>")};
    return VIREO_OK;
  });
}

int vireo_data_from_json_file(const vireo_model* model, const char* path, vireo_data** out) {
  if (!model || !path || !out) return usage("vireo_data_from_json_file: model, path and out must not be NULL");
  return guarded([&] {
    *out = new vireo_data{vireo::Data::from_json_file(model->model, path)};
    return VIREO_OK;
  });
}

void vireo_data_free(vireo_data* data) { delete data; }

int vireo_options_new(vireo_options** out) {
  if (!out) return usage("vireo_options_new: out must not be NULL");
  return guarded([&] {
    *out = new vireo_options{};
    return VIREO_OK;
  });
}

void vireo_options_free(vireo_options* options) { delete options; }

int vireo_options_set_guide(vireo_options* o, const char* v) {
  return set_parsed(o, v, "vireo_options_set_guide: NULL argument",
                    [](vireo::FitOptions& f, const std::string& t) {
                      f.guide = t.empty() ? std::nullopt : std::optional<vireo::Guide>(vireo::parse_guide(t));
                    });
}
int vireo_options_set_elbo(vireo_options* o, const char* v) {
  return set_parsed(o, v, "vireo_options_set_elbo: NULL argument", [](vireo::FitOptions& f, const std::string& t) {
    f.elbo = t.empty() ? std::nullopt : std::optional<vireo::Elbo>(vireo::parse_elbo(t));
  });
}
int vireo_options_set_optim(vireo_options* o, const char* v) {
  return set_parsed(o, v, "vireo_options_set_optim: NULL argument",
                    [](vireo::FitOptions& f, const std::string& t) { f.optim = vireo::parse_optimizer(t); });
}
int vireo_options_set_init(vireo_options* o, const char* v) {
  return set_parsed(o, v, "vireo_options_set_init: NULL argument",
                    [](vireo::FitOptions& f, const std::string& t) { f.init = vireo::Init::parse(t); });
}

int vireo_options_set_lr(vireo_options* o, double lr) {
  if (!o) return usage("vireo_options_set_lr: NULL options");
  if (!(lr > 0) || !std::isfinite(lr)) return usage("vireo_options_set_lr: lr must be a finite number > 0");
  o->options.lr = lr;
  return VIREO_OK;
}

int vireo_options_set_particles(vireo_options* o, int particles) {
  if (!o) return usage("vireo_options_set_particles: NULL options");
  if (particles < 1) return usage("vireo_options_set_particles: particles must be >= 1");
  o->options.particles = particles;
  return VIREO_OK;
}

int vireo_options_set_threads(vireo_options* o, int threads) {
  if (!o) return usage("vireo_options_set_threads: NULL options");
  if (threads < 1) return usage("vireo_options_set_threads: threads must be >= 1");
  o->options.threads = threads;
  return VIREO_OK;
}

int vireo_options_set_seed(vireo_options* o, uint64_t seed) {
  if (!o) return usage("vireo_options_set_seed: NULL options");
  o->options.seed = seed;
  return VIREO_OK;
}

int vireo_fit_new(const vireo_model* model, const vireo_data* data, const vireo_options* options, vireo_fit** out) {
  if (!model || !data || !out) return usage("vireo_fit_new: model, data and out must not be NULL");
  return guarded([&] {
    *out = new vireo_fit{vireo::Fit(model->model, data->data, options ? options->options : vireo::FitOptions{}), {}};
    return VIREO_OK;
  });
}

void vireo_fit_free(vireo_fit* fit) { delete fit; }

int vireo_fit_run(vireo_fit* fit, long steps, vireo_progress_fn progress, void* user) {
  if (!fit) return usage("vireo_fit_run: NULL fit");
  if (steps < 0) return usage("vireo_fit_run: steps must be >= 0");
  return guarded([&] {
    if (progress)
      fit->fit.run(steps, [&](long step, long total, double elbo) { progress(step, total, elbo, user); });
    else
      fit->fit.run(steps);
    return VIREO_OK;
  });
}

int vireo_fit_step(vireo_fit* fit, double* elbo) {
  if (!fit) return usage("vireo_fit_step: NULL fit");
  return guarded([&] {
    const double e = fit->fit.step();
    if (elbo) *elbo = e;
    return VIREO_OK;
  });
}

int vireo_fit_running_elbo(const vireo_fit* fit, double* elbo) {
  if (!fit || !elbo) return usage("vireo_fit_running_elbo: fit and elbo must not be NULL");
  return guarded([&] {
    *elbo = fit->fit.running_elbo();
    return VIREO_OK;
  });
}

int vireo_fit_summary_json(vireo_fit* fit, long draws, const char** json) {
  if (!fit || !json) return usage("vireo_fit_summary_json: fit and json must not be NULL");
  if (draws < 1) return usage("vireo_fit_summary_json: draws must be >= 1");
  return guarded([&] {
    fit->text = fit->fit.summarize(draws).to_json();
    *json = fit->text.c_str();
    return VIREO_OK;
  });
}

int vireo_fit_draws_csv(vireo_fit* fit, long draws, const char** csv) {
  if (!fit || !csv) return usage("vireo_fit_draws_csv: fit and csv must not be NULL");
  if (draws < 1) return usage("vireo_fit_draws_csv: draws must be >= 1");
  return guarded([&] {
    fit->text = fit->fit.draws(draws).to_csv();
    *csv = fit->text.c_str();
    return VIREO_OK;
  });
}

}  // extern "C"
