/* Vireo's C API: the embedding API of vireo.hpp for C and for any language
 * with a C foreign-function interface (Python's ctypes, Rust, Go, Julia, …).
 * Plain C (C99 or later; also compiles as C++), implemented in
 * runtime/api/c_api.cpp on top of vireo.hpp. Linked from libvireo (the
 * packaged library) or from the shared library libvireo_c.so.
 *
 * Rules:
 * - Handles are opaque. Every vireo_*_new / vireo_*_from_* that gives one
 *   has its vireo_*_free, which accepts NULL. A Data or Fit keeps what it
 *   needs of its Model alive: the model may be freed first.
 * - Every function returns a status (vireo_status): VIREO_OK (0) or the
 *   kind of the failure, and writes its results through out-pointers only on
 *   success. No C++ exception ever crosses this boundary. A NULL handle or
 *   out-pointer, or a handle used against its rules, returns VIREO_USAGE.
 *   Exceptions: vireo_version() and the vireo_last_error_* accessors, which
 *   cannot fail and return their value directly.
 * - Strings RETURNED are never freed by the caller. A string read from a
 *   handle (the summary's JSON, the draws' CSV) is owned by that handle and
 *   stays valid until the next call on the handle that returns a string, or
 *   until the handle is freed. The last error's strings are owned by the
 *   library, one record per thread, and stay valid until the next failing
 *   call on that thread. Strings PASSED IN are copied: the caller keeps them.
 *   Strings are NUL-terminated UTF-8.
 * - Handles are not synchronised: use each one from one thread at a time.
 *   One model may feed fits on several threads.
 *
 *   vireo_model* m; vireo_data* d; vireo_options* o; vireo_fit* f;
 *   const char* json;
 *   if (vireo_model_from_file("coin.vireo", &m) != VIREO_OK) {
 *     fprintf(stderr, "%s", vireo_last_error_message()); return 1;
 *   }
 *   vireo_data_from_json_string(m, "{\"N\": 3, \"y\": [1, 0, 1]}", &d);
 *   vireo_options_new(&o); vireo_options_set_seed(o, 1);
 *   vireo_fit_new(m, d, o, &f);
 *   vireo_fit_run(f, 2000, NULL, NULL);
 *   vireo_fit_summary_json(f, 1000, &json);   (owned by f)
 *   vireo_fit_free(f); vireo_options_free(o); vireo_data_free(d); vireo_model_free(m);
 */
#ifndef VIREO_VIREO_H
#define VIREO_VIREO_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define VIREO_C_API __declspec(dllexport)
#else
#define VIREO_C_API __attribute__((visibility("default")))
#endif

/* The status of every call; also the kind of the last error
 * (vireo::Error::Kind + 1). */
typedef enum vireo_status {
  VIREO_OK = 0,
  VIREO_MODEL = 1,    /* the .vireo text cannot be read, parsed or checked */
  VIREO_DATA = 2,     /* the data do not match the data block (or cannot be read) */
  VIREO_RUN = 3,      /* running the model or guide failed */
  VIREO_OPTIONS = 4,  /* a fit option is unknown or refused */
  VIREO_IO = 5,       /* a file could not be read or written */
  VIREO_USAGE = 6,    /* NULL where a handle or pointer was needed, an argument out of range */
  VIREO_INTERNAL = 7, /* anything else (out of memory, a bug): the message says what */
  VIREO_LIMIT = 8     /* a limit of untrusted models was reached (recursion, sites, tape, time) */
} vireo_status;

typedef struct vireo_model vireo_model;
typedef struct vireo_data vireo_data;
typedef struct vireo_options vireo_options;
typedef struct vireo_fit vireo_fit;

/* "0.1": the library's version (compare with VIREO_VERSION_STRING of vireo.hpp). */
VIREO_C_API const char* vireo_version(void);

/* The last failure on this thread. message: rendered as vireo::Error::what()
 * (file:line:col: error: message, the source line, a caret, the hint, for
 * every diagnostic); "" when no call has failed. kind: the vireo_status it
 * returned. file/line/column/hint: those of its first diagnostic ("" and 0
 * when there is none). Valid until the next failing call on this thread. */
VIREO_C_API const char* vireo_last_error_message(void);
VIREO_C_API int vireo_last_error_kind(void);
VIREO_C_API const char* vireo_last_error_file(void);
VIREO_C_API int vireo_last_error_line(void);
VIREO_C_API int vireo_last_error_column(void);
VIREO_C_API const char* vireo_last_error_hint(void);

/* Models: read, parsed and checked. `name` is the file name used in
 * messages (NULL: "<string>"). */
VIREO_C_API int vireo_model_from_file(const char* path, vireo_model** out);
VIREO_C_API int vireo_model_from_string(const char* text, const char* name, vireo_model** out);
VIREO_C_API void vireo_model_free(vireo_model* model);

/* Host functions (vireo::HostFunctions): C functions a model calls like
 * builtins. `value` gets the arguments (args[i]: arg_sizes[i] doubles,
 * row-major, of the declared shape) and writes the result's result_size
 * doubles; `gradient` (may be NULL: none) gets the same, the result and
 * d L / d result (result_size doubles), and writes d L / d argument i into
 * arg_adjoints[i] (arg_sizes[i] doubles, zeroed before the call). Either
 * returns 0, or non-zero to fail the step (VIREO_RUN naming the function).
 * Shapes: param_shapes[i] holds param_ranks[i] extents (-1: any size);
 * the result's extents are all >= 0. `user_data` is passed back and must
 * outlive every model compiled with the table; the functions may be called
 * from several threads when fits of one model run on several. A model
 * compiled with the table keeps its own copy of it. */
typedef struct vireo_host_functions vireo_host_functions;
typedef int (*vireo_host_value_fn)(void* user_data, size_t n_args, const double* const* args, const size_t* arg_sizes,
                                   double* result, size_t result_size);
typedef int (*vireo_host_gradient_fn)(void* user_data, size_t n_args, const double* const* args,
                                      const size_t* arg_sizes, const double* result, const double* adjoint,
                                      size_t result_size, double* const* arg_adjoints);
VIREO_C_API int vireo_host_functions_new(vireo_host_functions** out);
VIREO_C_API void vireo_host_functions_free(vireo_host_functions* hosts);
VIREO_C_API int vireo_host_functions_add(vireo_host_functions* hosts, const char* name, size_t n_params,
                                         const char* const* param_names, const int64_t* const* param_shapes,
                                         const size_t* param_ranks, const int64_t* result_shape, size_t result_rank,
                                         vireo_host_value_fn value, vireo_host_gradient_fn gradient, void* user_data);
VIREO_C_API int vireo_model_from_string_with_hosts(const char* text, const char* name,
                                                   const vireo_host_functions* hosts, vireo_model** out);

/* Data for one model, from JSON text (`name` names it in messages; NULL:
 * "<data>") or a JSON file, checked against the model's data block. */
VIREO_C_API int vireo_data_from_json_string(const vireo_model* model, const char* json, const char* name,
                                            vireo_data** out);
VIREO_C_API int vireo_data_from_json_file(const vireo_model* model, const char* path, vireo_data** out);
VIREO_C_API void vireo_data_free(vireo_data* data);

/* Fit options: a handle holding vireo::FitOptions, every field at its
 * default (the guide's defaults for those vireo.hpp leaves unset). Setters
 * take the spellings of vireo.hpp's typed options (guide "auto_normal", …;
 * elbo "trace", …; optim "adam", …; init "median", "uniform(2)", …); a
 * spelling outside the set is refused here with VIREO_OPTIONS, the accepted
 * ones and the closest in the last error; a combination the model cannot
 * use is refused when the fit is made (vireo_fit_new returns VIREO_OPTIONS).
 * An empty string restores the default of guide and elbo. lr <= 0 and
 * particles <= 0 are refused here (VIREO_USAGE). */
VIREO_C_API int vireo_options_new(vireo_options** out);
VIREO_C_API void vireo_options_free(vireo_options* options);
VIREO_C_API int vireo_options_set_guide(vireo_options* options, const char* guide);
VIREO_C_API int vireo_options_set_elbo(vireo_options* options, const char* elbo);
VIREO_C_API int vireo_options_set_optim(vireo_options* options, const char* optim);
VIREO_C_API int vireo_options_set_init(vireo_options* options, const char* init);
VIREO_C_API int vireo_options_set_lr(vireo_options* options, double lr);
VIREO_C_API int vireo_options_set_particles(vireo_options* options, int particles);
VIREO_C_API int vireo_options_set_seed(vireo_options* options, uint64_t seed);
/* Threads a step may use (vireo.hpp, FitOptions::threads; default 1): the
 * same results on any number. threads <= 0 is refused (VIREO_USAGE). */
VIREO_C_API int vireo_options_set_threads(vireo_options* options, int threads);

/* A fit of the model's guide to the data. options may be NULL (defaults);
 * it is copied: free it or change it afterwards at will. */
VIREO_C_API int vireo_fit_new(const vireo_model* model, const vireo_data* data, const vireo_options* options,
                              vireo_fit** out);
VIREO_C_API void vireo_fit_free(vireo_fit* fit);

/* Called after each step of vireo_fit_run: the step (1 … total), total,
 * the running ELBO, and the caller's `user` pointer. */
typedef void (*vireo_progress_fn)(long step, long total, double running_elbo, void* user);

/* `steps` SVI steps (vireo::Fit::run: the last tenth averaged); progress
 * may be NULL. steps < 0 is VIREO_USAGE. */
VIREO_C_API int vireo_fit_run(vireo_fit* fit, long steps, vireo_progress_fn progress, void* user);
/* One step; its ELBO estimate in *elbo (may be NULL). */
VIREO_C_API int vireo_fit_step(vireo_fit* fit, double* elbo);
/* The running ELBO (NaN before any step). */
VIREO_C_API int vireo_fit_running_elbo(const vireo_fit* fit, double* elbo);
/* vireo::Fit::summarize(draws).to_json(): {"site": {"shape", "mean", "sd",
 * "q05", "q50", "q95", …}, …, "elbo": x, …}. Owned by fit. draws >= 1. */
VIREO_C_API int vireo_fit_summary_json(vireo_fit* fit, long draws, const char** json);
/* vireo::Fit::draws(draws).to_csv(): a header line, one line per draw. Owned by fit. */
VIREO_C_API int vireo_fit_draws_csv(vireo_fit* fit, long draws, const char** csv);

#ifdef __cplusplus
}
#endif

#endif /* VIREO_VIREO_H */
