// The C API (include/vireo/vireo.h) over the C++ one (include/vireo/vireo.hpp):
// each handle holds the C++ object, each function runs inside guarded(),
// which turns every exception into a status and this thread's last error.
#include "vireo/vireo.h"

#include <cmath>
#include <exception>
#include <limits>
#include <new>
#include <string>
#include <utility>

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

int set_string(vireo_options* o, const char* value, std::string vireo::FitOptions::*field, const char* what) {
  if (!o || !value) return usage(what);
  return guarded([&] {
    o->options.*field = value;
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
  return set_string(o, v, &vireo::FitOptions::guide, "vireo_options_set_guide: NULL argument");
}
int vireo_options_set_elbo(vireo_options* o, const char* v) {
  return set_string(o, v, &vireo::FitOptions::elbo, "vireo_options_set_elbo: NULL argument");
}
int vireo_options_set_optim(vireo_options* o, const char* v) {
  return set_string(o, v, &vireo::FitOptions::optim, "vireo_options_set_optim: NULL argument");
}
int vireo_options_set_init(vireo_options* o, const char* v) {
  return set_string(o, v, &vireo::FitOptions::init, "vireo_options_set_init: NULL argument");
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
