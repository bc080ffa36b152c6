// ckpt scan PATH... [--json] [--sarif FILE] [--recursive] [--quiet]
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "CLI/CLI.hpp"
#include "ckpt/atomic_file.h"
#include "ckpt/scan.h"
#include "ckpt/status.h"
#include "ckpt/text.h"
#include "cli/common.h"
#include "lib/str_util.h"

namespace ckpt::cli {
namespace {

namespace fs = std::filesystem;

struct ScanArgs {
  std::vector<std::string> paths;
  bool json = false;
  std::string sarif;
  bool recursive = false;
  bool quiet = false;
};

// Files to scan for `path`: itself, or a directory's files (sorted; with
// `recursive`, subdirectories too; symlinked directories are not followed,
// so a link cannot make the walk loop).
void Expand(const std::string& path, bool recursive, std::vector<std::string>* files,
            std::vector<std::string>* skipped_dirs) {
  std::error_code ec;
  if (!fs::is_directory(path, ec)) {
    files->push_back(path);
    return;
  }
  std::vector<fs::path> entries;
  for (fs::directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) entries.push_back(it->path());
  if (ec) {
    files->push_back(path);  // reported as unreadable by the scan
    return;
  }
  std::sort(entries.begin(), entries.end());
  for (const fs::path& p : entries) {
    std::error_code e2;
    const bool is_link = fs::is_symlink(p, e2);
    if (fs::is_directory(p, e2)) {
      if (recursive && !is_link) {
        Expand(p.string(), recursive, files, skipped_dirs);
      } else {
        skipped_dirs->push_back(p.string());
      }
      continue;
    }
    files->push_back(p.string());
  }
}

nlohmann::ordered_json ReportJson(const ScanReport& r) {
  nlohmann::ordered_json j;
  j["path"] = r.path;
  j["verdict"] = VerdictName(r.verdict);
  j["format"] = r.format;
  nlohmann::ordered_json findings = nlohmann::ordered_json::array();
  for (const Finding& f : r.findings) {
    nlohmann::ordered_json fj;
    fj["severity"] = SeverityName(f.severity);
    fj["rule"] = f.rule;
    fj["message"] = f.message;
    fj["location"] = f.location;
    if (f.count > 1) fj["count"] = f.count;
    findings.push_back(std::move(fj));
  }
  j["findings"] = std::move(findings);
  return j;
}

// SARIF 2.1.0 for code-scanning UIs: one result per finding, the file as
// artifact, the byte offset as region when the location has one.
nlohmann::ordered_json Sarif(const std::vector<ScanReport>& reports) {
  nlohmann::ordered_json rules = nlohmann::ordered_json::array();
  std::vector<std::string> rule_ids;
  nlohmann::ordered_json results = nlohmann::ordered_json::array();
  for (const ScanReport& r : reports) {
    for (const Finding& f : r.findings) {
      if (f.severity == Severity::kInfo && f.rule != "scan.io") continue;
      auto it = std::find(rule_ids.begin(), rule_ids.end(), f.rule);
      if (it == rule_ids.end()) {
        rule_ids.push_back(f.rule);
        nlohmann::ordered_json rule;
        rule["id"] = f.rule;
        rule["shortDescription"]["text"] = f.rule;
        rule["helpUri"] = "https://github.com/ckpt/ckpt/blob/main/docs/rules.md";
        rules.push_back(std::move(rule));
      }
      const double security = f.severity == Severity::kCritical ? 9.5
                              : f.severity == Severity::kHigh   ? 8.0
                              : f.severity == Severity::kMedium ? 5.0
                                                                : 2.0;
      nlohmann::ordered_json res;
      res["ruleId"] = f.rule;
      res["level"] = f.severity >= Severity::kHigh ? "error" : f.severity == Severity::kMedium ? "warning" : "note";
      res["message"]["text"] = f.count > 1 ? StrCat(f.message, " (", f.count, " times)") : f.message;
      nlohmann::ordered_json loc;
      loc["physicalLocation"]["artifactLocation"]["uri"] = r.path;
      // Offsets in SARIF regions are into the artifact itself: only when the
      // finding is in the file, not inside an archive member.
      const std::string& l = f.location;
      const size_t at = l.rfind('@');
      if (l.find('!') == std::string::npos && at != std::string::npos && l.compare(0, at, r.path) == 0) {
        loc["physicalLocation"]["region"]["byteOffset"] = std::stoull(l.substr(at + 1));
      }
      loc["logicalLocations"] = {{{"fullyQualifiedName", l}, {"kind", "member"}}};
      res["locations"] = {loc};
      res["properties"]["security-severity"] = StrCat(security);
      res["properties"]["severity"] = SeverityName(f.severity);
      results.push_back(std::move(res));
    }
  }
  nlohmann::ordered_json run;
  run["tool"]["driver"]["name"] = "ckpt";
  run["tool"]["driver"]["version"] = CKPT_VERSION;
  run["tool"]["driver"]["informationUri"] = "https://github.com/ckpt/ckpt";
  run["tool"]["driver"]["rules"] = std::move(rules);
  run["results"] = std::move(results);
  nlohmann::ordered_json sarif;
  sarif["$schema"] = "https://json.schemastore.org/sarif-2.1.0.json";
  sarif["version"] = "2.1.0";
  sarif["runs"] = {run};
  return sarif;
}

}  // namespace

void RegisterScan(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<ScanArgs>();
  CLI::App* cmd = app.add_subcommand(
      "scan", "Security scan of model files and archives without executing anything; exit 1 if any is not safe");
  cmd->add_option("paths", args->paths, "Files or directories")->required();
  cmd->add_flag("--json", args->json, "Print a JSON array with one report per file");
  cmd->add_option("--sarif", args->sarif, "Also write a SARIF 2.1.0 report to FILE");
  cmd->add_flag("-r,--recursive", args->recursive, "Descend into subdirectories");
  cmd->add_flag("-q,--quiet", args->quiet, "Human output: print only files that are not safe");
  cmd->callback([args, exit_code] {
    std::vector<std::string> files, skipped;
    for (const std::string& p : args->paths) Expand(p, args->recursive, &files, &skipped);
    for (const std::string& d : skipped) {
      std::fprintf(stderr, "ckpt: %s: directory not scanned (use --recursive)\n", EscapeForDisplay(d).c_str());
    }
    std::vector<ScanReport> reports;
    reports.reserve(files.size());
    int counts[4] = {0, 0, 0, 0};
    bool io_error = false, not_safe = false;
    for (const std::string& f : files) {
      ScanReport r = ScanPath(f);
      ++counts[static_cast<int>(r.verdict)];
      if (r.io_error) {
        io_error = true;
      } else if (r.verdict != Verdict::kSafe) {
        not_safe = true;
      }
      if (!args->json && (!args->quiet || r.verdict != Verdict::kSafe)) {
        std::string verdict(VerdictName(r.verdict));
        for (char& c : verdict) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        std::printf("%s: %s (%s)\n", EscapeForDisplay(r.path).c_str(), verdict.c_str(),
                    r.format.empty() ? "unreadable" : r.format.c_str());
        for (const Finding& x : r.findings) {
          std::printf("  %-8s %s  %s\n      %s%s\n", std::string(SeverityName(x.severity)).c_str(), x.rule.c_str(),
                      EscapeForDisplay(x.location).c_str(), x.message.c_str(),
                      x.count > 1 ? StrCat(" (", x.count, " times)").c_str() : "");
        }
      }
      reports.push_back(std::move(r));
    }
    if (args->json) {
      nlohmann::ordered_json all = nlohmann::ordered_json::array();
      for (const ScanReport& r : reports) all.push_back(ReportJson(r));
      std::printf("%s\n", DumpJson(all).c_str());
    } else if (reports.size() > 1) {
      std::printf("%zu files: %d unsafe, %d suspicious, %d error, %d safe\n", reports.size(),
                  counts[static_cast<int>(Verdict::kUnsafe)], counts[static_cast<int>(Verdict::kSuspicious)],
                  counts[static_cast<int>(Verdict::kError)], counts[static_cast<int>(Verdict::kSafe)]);
    }
    if (!args->sarif.empty()) {
      absl::StatusOr<std::unique_ptr<AtomicOutputFile>> out = AtomicOutputFile::Create(args->sarif);
      absl::Status s = out.status();
      if (s.ok()) {
        s = (*out)->Write(DumpJson(Sarif(reports), 2) + "\n");
        if (s.ok()) s = (*out)->Commit();
      }
      if (!s.ok()) {
        PrintError(s);
        *exit_code = kExitError;
        return;
      }
    }
    *exit_code = not_safe ? kExitInvalid : io_error ? kExitError : kExitOk;
  });
}

}  // namespace ckpt::cli
