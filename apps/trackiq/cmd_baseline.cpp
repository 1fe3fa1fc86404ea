// trackiq baseline save|list|rm: named reference runs, per hardware fingerprint (CMP-2).
#include <fmt/format.h>

#include "cli_util.hpp"
#include "commands.hpp"
#include "trackiq/core/error.hpp"
#include "trackiq/store/store.hpp"

namespace trackiq::cli {

Action setup_baseline(CLI::App& sub) {
  struct Flags {
    std::string action, name, run, store, hardware;
  };
  auto f = std::make_shared<Flags>();
  sub.footer(
      "Baselines: a name that points at a stored run, kept per hardware fingerprint, so `main` on one\n"
      "machine and `main` on another are different references. Saving a name again on the same\n"
      "hardware moves it to the new run.\n\n"
      "Examples:\n"
      "  trackiq baseline save main            # the newest run\n"
      "  trackiq baseline save release-1.4 3f2a\n"
      "  trackiq baseline list\n"
      "  trackiq baseline rm release-1.4");
  sub.add_option("action", f->action, "save, list or rm")->required()->check(CLI::IsMember({"save", "list", "rm"}));
  sub.add_option("name", f->name, "Baseline name (save, rm)");
  sub.add_option("run", f->run, "save: run id or prefix (default: the newest run)");
  sub.add_option("--hardware", f->hardware, "rm: only on this hardware fingerprint");
  sub.add_option("--store", f->store, cli::kStoreHelp);
  return [f] {
    auto st = store::open_store(f->store);
    if (f->action == "list") {
      const auto all = st->list_baselines();
      if (all.empty()) fmt::print("(no baselines in {})\n", st->location());
      for (const auto& b : all)
        fmt::print("{:<20} hardware {}  run {}  {} {}  saved {}\n", b.name, b.hardware_fingerprint, b.run_id,
                   b.product.empty() ? "-" : b.product, b.version.empty() ? "-" : b.version, b.created_at);
      return kExitOk;
    }
    if (f->name.empty()) throw InputError(fmt::format("baseline {}: which name?", f->action));
    if (f->action == "save") {
      const auto b = st->save_baseline(f->name, f->run);
      fmt::print("baseline {} -> run {} (hardware {})\n", b.name, b.run_id, b.hardware_fingerprint);
      return kExitOk;
    }
    fmt::print("removed baseline {} ({} hardware)\n", f->name, st->remove_baseline(f->name, f->hardware));
    return kExitOk;
  };
}

}  // namespace trackiq::cli
