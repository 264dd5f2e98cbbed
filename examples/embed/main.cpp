// A host program that embeds Vireo through include/vireo only: it loads a
// model, hands it data from its own arrays, fits it, and reads posterior
// summaries and draws. Built by CMake and run by tests/api.
//   vireo_embed MODEL.vireo
#include <cmath>
#include <cstdio>
#include <iostream>

#include "vireo/vireo.hpp"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: vireo_embed eight_schools.vireo\n";
    return 2;
  }
  try {
    vireo::Model model = vireo::Model::from_file(argv[1]);

    // The host's own data: eight schools (Rubin 1981).
    std::map<std::string, vireo::Array> arrays;
    arrays["J"] = {{}, {8}};
    arrays["y"] = {{8}, {28, 8, -3, 7, -1, 1, 18, 12}};
    arrays["sigma"] = {{8}, {15, 10, 16, 11, 9, 11, 10, 18}};
    vireo::Data data = vireo::Data::from_arrays(model, arrays);

    vireo::FitOptions options;
    options.optim = vireo::Optimizer::ClippedAdam;
    options.lr = 0.02;
    options.seed = 42;
    vireo::Fit fit(model, data, options);
    fit.run(1000);
    std::printf("guide %s, %ld steps, elbo %.2f\n", fit.guide_name().c_str(), fit.steps_taken(), fit.running_elbo());

    vireo::Summary summary = fit.summarize(500);
    for (const auto& site : summary.sites)
      if (site.name == "mu" || site.name == "tau")
        std::printf("%s: mean %.2f, 90%% interval [%.2f, %.2f]\n", site.name.c_str(), site.mean[0], site.q05[0],
                    site.q95[0]);
    vireo::DrawTable draws = fit.draws(10);
    std::printf("%zu draws of %zu columns\n", draws.rows.size(), draws.columns.size());

    // Errors are exceptions with diagnostics: bad data names the item.
    arrays["sigma"].values[2] = -1;
    try {
      vireo::Data::from_arrays(model, arrays);
    } catch (const vireo::Error& e) {
      std::printf("bad data refused: %s (item %s%s)\n", e.diagnostics().at(0).message.c_str(),
                  e.diagnostics().at(0).item.c_str(), e.diagnostics().at(0).index.c_str());
    }
    return std::isfinite(fit.running_elbo()) ? 0 : 1;
  } catch (const vireo::Error& e) {
    std::cerr << e.what();
    return 1;
  }
}
