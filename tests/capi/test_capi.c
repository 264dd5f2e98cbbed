/* The C API (include/vireo/vireo.h) driven from C, compiled as C: a fit of
 * the eight schools from a file and a JSON string, a syntax error's
 * location and caret, and misuse (NULL, bad arguments) answered with a
 * status rather than a crash. Exit status 0 when every check holds. */
#include "vireo/vireo.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures = 0;
#define CHECK(cond)                                                   \
  do {                                                                \
    if (!(cond)) {                                                    \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      ++failures;                                                     \
    }                                                                 \
  } while (0)

static char* read_text(const char* path) {
  FILE* f = fopen(path, "rb");
  long n;
  char* text;
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  n = ftell(f);
  fseek(f, 0, SEEK_SET);
  text = (char*)malloc((size_t)n + 1);
  if (text && fread(text, 1, (size_t)n, f) != (size_t)n) {
    free(text);
    text = NULL;
  }
  if (text) text[n] = '\0';
  fclose(f);
  return text;
}

static long progress_calls = 0;
static void on_progress(long step, long total, double elbo, void* user) {
  (void)elbo;
  ++*(long*)user;
  if (step == total) progress_calls = total;
}

/* The number after `"key":` at or after `from` in the JSON text, or NaN. */
static double number_after(const char* from, const char* key) {
  const char* at = strstr(from, key);
  char* end;
  double x;
  if (!at) return NAN;
  at += strlen(key);
  while (*at == ' ' || *at == ':' || *at == '[') ++at;
  x = strtod(at, &end);
  return end == at ? NAN : x;
}

static void fit_eight_schools(void) {
  vireo_model* model = NULL;
  vireo_data* data = NULL;
  vireo_options* options = NULL;
  vireo_fit* fit = NULL;
  const char* json = NULL;
  const char* csv = NULL;
  const char* mu;
  long calls = 0;
  double mean, sd;
  char* data_text = read_text(VIREO_SOURCE_DIR "/examples/eight_schools.json");
  CHECK(data_text != NULL);
  if (!data_text) return;

  CHECK(vireo_model_from_file(VIREO_SOURCE_DIR "/examples/eight_schools.vireo", &model) == VIREO_OK);
  CHECK(vireo_data_from_json_string(model, data_text, "eight_schools.json", &data) == VIREO_OK);
  CHECK(vireo_options_new(&options) == VIREO_OK);
  CHECK(vireo_options_set_seed(options, 1) == VIREO_OK);
  CHECK(vireo_options_set_guide(options, "auto_normal") == VIREO_OK);
  CHECK(vireo_fit_new(model, data, options, &fit) == VIREO_OK);
  /* The fit keeps the model alive: free it and the options before running. */
  vireo_model_free(model);
  vireo_options_free(options);
  CHECK(vireo_fit_run(fit, 500, on_progress, &calls) == VIREO_OK);
  CHECK(calls == 500 && progress_calls == 500);
  CHECK(vireo_fit_summary_json(fit, 200, &json) == VIREO_OK);
  CHECK(json != NULL && strstr(json, "\"mu\"") != NULL && strstr(json, "\"tau\"") != NULL);
  if (json && (mu = strstr(json, "\"mu\"")) != NULL) {
    mean = number_after(mu, "\"mean\"");
    sd = number_after(mu, "\"sd\"");
    /* Finite, and where eight schools' mu lies (posterior mean about 4.4, sd about 3.3). */
    CHECK(isfinite(mean) && isfinite(sd));
    CHECK(mean > -10 && mean < 20 && sd > 0);
  }
  CHECK(vireo_fit_draws_csv(fit, 10, &csv) == VIREO_OK);
  CHECK(csv != NULL);
  if (csv) {
    /* A header naming mu, then one line per draw. */
    long lines = 0;
    const char* c;
    for (c = csv; *c; ++c) lines += *c == '\n';
    CHECK(strstr(csv, "mu") != NULL && strstr(csv, "mu") < strchr(csv, '\n'));
    CHECK(lines == 11);
  }
  vireo_fit_free(fit);
  vireo_data_free(data);
  free(data_text);
}

static void syntax_error_has_its_place(void) {
  vireo_model* model = NULL;
  const char* message;
  const int status = vireo_model_from_string("model {\n  x ~ Normal(0, \n}\n", "bad.vireo", &model);
  CHECK(status == VIREO_MODEL);
  CHECK(model == NULL);
  CHECK(vireo_last_error_kind() == VIREO_MODEL);
  message = vireo_last_error_message();
  CHECK(strstr(message, "bad.vireo:") != NULL);
  CHECK(strchr(message, '^') != NULL);
  CHECK(strcmp(vireo_last_error_file(), "bad.vireo") == 0);
  CHECK(vireo_last_error_line() >= 2 && vireo_last_error_column() >= 1);
  {
    /* file:line:col as the message writes it. */
    char place[64];
    snprintf(place, sizeof place, "bad.vireo:%d:%d", vireo_last_error_line(), vireo_last_error_column());
    CHECK(strstr(message, place) != NULL);
  }
  if (failures) fprintf(stderr, "the message was:\n%s\n", message);
}

static void misuse_is_a_status(void) {
  vireo_model* model = NULL;
  vireo_data* data = NULL;
  vireo_options* options = NULL;
  const char* text = NULL;
  CHECK(vireo_model_from_string(NULL, NULL, &model) == VIREO_USAGE);
  CHECK(vireo_last_error_kind() == VIREO_USAGE && strlen(vireo_last_error_message()) > 0);
  CHECK(vireo_model_from_file(VIREO_SOURCE_DIR "/examples/coin.vireo", NULL) == VIREO_USAGE);
  CHECK(vireo_model_from_file("/nonexistent/model.vireo", &model) != VIREO_OK);
  CHECK(vireo_fit_run(NULL, 10, NULL, NULL) == VIREO_USAGE);
  CHECK(vireo_fit_summary_json(NULL, 10, &text) == VIREO_USAGE);
  CHECK(vireo_fit_new(NULL, NULL, NULL, NULL) == VIREO_USAGE);
  CHECK(vireo_options_set_guide(NULL, "auto_normal") == VIREO_USAGE);
  CHECK(vireo_options_new(&options) == VIREO_OK);
  CHECK(vireo_options_set_lr(options, -1) == VIREO_USAGE);
  CHECK(vireo_options_set_particles(options, 0) == VIREO_USAGE);
  CHECK(vireo_options_set_threads(options, 0) == VIREO_USAGE);
  CHECK(vireo_options_set_threads(options, -1) == VIREO_USAGE);
  CHECK(vireo_options_set_threads(options, 2) == VIREO_OK);
  /* A name outside the set is refused when set, with the closest one. */
  CHECK(vireo_options_set_guide(options, "auto_nromal") == VIREO_OPTIONS);
  CHECK(strstr(vireo_last_error_message(), "unknown guide 'auto_nromal'") != NULL);
  CHECK(strstr(vireo_last_error_message(), "did you mean 'auto_normal'?") != NULL);
  CHECK(vireo_options_set_guide(options, "custom") == VIREO_OK);
  vireo_model_free(NULL);
  vireo_data_free(NULL);
  vireo_fit_free(NULL);
  CHECK(vireo_model_from_file(VIREO_SOURCE_DIR "/examples/coin.vireo", &model) == VIREO_OK);
  /* Data that do not match the data block: a Data error naming the item. */
  CHECK(vireo_data_from_json_string(model, "{\"n\": 2, \"flips\": [1, 7]}", "bad.json", &data) == VIREO_DATA);
  CHECK(strstr(vireo_last_error_message(), "flips") != NULL);
  CHECK(vireo_data_from_json_string(model, "not json", NULL, &data) == VIREO_DATA);
  CHECK(vireo_data_from_json_string(model, "{\"n\": 2, \"flips\": [1, 0]}", NULL, &data) == VIREO_OK);
  {
    vireo_fit* fit = NULL;
    /* A guide the file cannot use is refused when the fit is made. */
    CHECK(vireo_fit_new(model, data, options, &fit) == VIREO_OPTIONS);
    CHECK(fit == NULL);
    CHECK(strstr(vireo_last_error_message(), "no guide block") != NULL);
    CHECK(vireo_fit_new(model, data, NULL, &fit) == VIREO_OK);
    CHECK(vireo_fit_run(fit, -1, NULL, NULL) == VIREO_USAGE);
    CHECK(vireo_fit_summary_json(fit, 0, &text) == VIREO_USAGE);
    vireo_fit_free(fit);
  }
  vireo_options_free(options);
  vireo_data_free(data);
  vireo_model_free(model);
}

/* A host function from C: twice(x) = factor * x with its gradient; `user`
 * points at the factor. */
static int twice_value(void* user, size_t n, const double* const* args, const size_t* sizes, double* result,
                       size_t result_size) {
  if (n != 1 || sizes[0] != 1 || result_size != 1) return 1;
  result[0] = *(const double*)user * args[0][0];
  return 0;
}
static int twice_gradient(void* user, size_t n, const double* const* args, const size_t* sizes, const double* result,
                          const double* adjoint, size_t result_size, double* const* arg_adjoints) {
  (void)args, (void)sizes, (void)result, (void)result_size;
  if (n != 1) return 1;
  arg_adjoints[0][0] = *(const double*)user * adjoint[0];
  return 0;
}

/* y_i ~ Normal(twice(mu), 1), mu ~ Normal(0, 10), y = (1.3, 2.9, 0.4, 2.2,
 * 1.6): the posterior mean of mu is 2 * 8.4 / (0.01 + 20) = 0.8396, its sd
 * 0.2236. 1000 draws of a converged auto_normal: Monte Carlo error of the
 * mean 0.007; 0.05 (0.22 sd) leaves room for the fit's own error. Without
 * the gradient the same model is refused at compile time. */
static void host_functions_from_c(void) {
  const char* text =
      "data {\n  N: int\n  y: real[N]\n}\nmodel {\n  mu ~ Normal(0, 10)\n  plate obs(N) {\n"
      "    observe y ~ Normal(twice(mu), 1)\n  }\n}\n";
  double factor = 2;
  const char* names[] = {"x"};
  const int64_t* shapes[] = {NULL};
  const size_t ranks[] = {0};
  vireo_host_functions* hosts = NULL;
  vireo_model* model = NULL;
  vireo_data* data = NULL;
  vireo_fit* fit = NULL;
  const char* json = NULL;
  CHECK(vireo_host_functions_new(&hosts) == VIREO_OK);
  CHECK(vireo_host_functions_add(hosts, "twice", 1, names, shapes, ranks, NULL, 0, twice_value, twice_gradient,
                                 &factor) == VIREO_OK);
  CHECK(vireo_model_from_string_with_hosts(text, "twice.vireo", hosts, &model) == VIREO_OK);
  CHECK(vireo_data_from_json_string(model, "{\"N\": 5, \"y\": [1.3, 2.9, 0.4, 2.2, 1.6]}", NULL, &data) == VIREO_OK);
  CHECK(vireo_fit_new(model, data, NULL, &fit) == VIREO_OK);
  CHECK(vireo_fit_run(fit, 2000, NULL, NULL) == VIREO_OK);
  CHECK(vireo_fit_summary_json(fit, 1000, &json) == VIREO_OK);
  CHECK(json != NULL && fabs(number_after(json, "\"mean\"") - 0.8396) < 0.05);
  vireo_fit_free(fit);
  vireo_data_free(data);
  vireo_model_free(model);
  vireo_host_functions_free(hosts);

  CHECK(vireo_host_functions_new(&hosts) == VIREO_OK);
  CHECK(vireo_host_functions_add(hosts, "twice", 1, names, shapes, ranks, NULL, 0, twice_value, NULL, &factor) ==
        VIREO_OK);
  CHECK(vireo_host_functions_add(hosts, "exp", 1, names, shapes, ranks, NULL, 0, twice_value, NULL, &factor) ==
        VIREO_USAGE);
  CHECK(vireo_model_from_string_with_hosts(text, "twice.vireo", hosts, &model) == VIREO_MODEL);
  CHECK(strstr(vireo_last_error_message(), "host function 'twice' has no gradient") != NULL);
  CHECK(vireo_last_error_line() == 8);
  vireo_host_functions_free(hosts);
}

int main(void) {
  CHECK(strchr(vireo_version(), '.') != NULL);
  CHECK(vireo_last_error_kind() == VIREO_OK && strcmp(vireo_last_error_message(), "") == 0);
  fit_eight_schools();
  syntax_error_has_its_place();
  misuse_is_a_status();
  host_functions_from_c();
  if (failures) {
    fprintf(stderr, "%d checks failed\n", failures);
    return 1;
  }
  printf("C API: all checks passed\n");
  return 0;
}
