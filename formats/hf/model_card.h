// formats/hf/model_card.h — the `general.*` metadata convert_hf_to_gguf.py
// writes for a Hugging Face model directory.
//
// What is reproduced: conversion/base.py's prepare_metadata (no
// --metadata override file, no --model-name, no remote model): gguf-py's
// Metadata.load(None, dir, None, total_params), whose heuristics read
//
//   README.md               the YAML front matter only (the first line is
//                           exactly "---", up to the next line that is
//                           exactly "---"); the markdown body is never read
//                           (but, as Python decodes the whole file, it must
//                           be UTF-8)
//   config.json             `_name_or_path` only
//   generation_config.json  the general.sampling.* keys (temperature, top_k,
//                           top_p, ... under gguf-py's names)
//   the directory name      name, basename, finetune, version, size label
//
// then the fallback name (the directory name), the size label computed from
// the tensors' parameter counts, `general.type = model`, and
// Metadata.set_gguf_meta_model — with gguf-py's GGUFWriter rules applied:
// add_string drops None and falsy values ("" , 0, false, [], {}), add_array
// drops empty lists, array element types follow GGUFValueType.get_type.
//
// Key order (checked against ../shared/golden/convert/ref): the writer gets
// general.architecture first (its constructor, written by the caller),
// then general.type (ModelBase.set_type runs before set_gguf_meta_model),
// then the sampling keys, general.name, and the rest in set_gguf_meta_model's
// order; the caller then writes the architecture's hyperparameters.
//
// YAML. The front matter is parsed with libyaml (the YAML 1.1 parser that
// PyYAML mirrors) and typed the way yaml.safe_load types it: PyYAML's
// implicit resolvers (YAML 1.1 booleans yes/no/on/off, ints with 0b/0x/0
// prefixes, underscores and base 60, floats that need a dot, timestamps,
// null/~/empty), its explicit tags (!!str, !!int, !!float, !!bool, !!null,
// !!binary, !!timestamp, !!seq, !!map, !!set, !!omap, !!pairs; any other tag
// fails as in safe_load), anchors and aliases (shared, never expanded),
// merge keys (<<), the last of duplicate keys winning, and the converter's
// own text fixes before parsing ("- no\n" quoted, tabs → two spaces).
//
// Failures. Where the reference converter fails (an exception escapes
// convert_hf_to_gguf.py), ModelCardKvs returns an error naming the file and
// the rule, never a partial result:
//   hf.model_card.utf8       README.md (or the directory name, when written)
//                            is not UTF-8
//   hf.model_card.yaml       the front matter is not YAML (line and column in
//                            README.md), or holds more than one document
//   hf.model_card.value      a YAML value safe_load refuses: an unknown tag, a
//                            bad !!int/!!float/!!binary/timestamp (2024-13-01),
//                            an undefined or duplicate anchor, an unhashable
//                            key, a bad merge
//   hf.model_card.type       a field gguf-py cannot write: a non-string where a
//                            string goes (`version: 1.0` is a float), a license
//                            list with non-strings, tags/languages mixing
//                            types or holding maps, ints outside int32
//   hf.model_card.too_large  (kResourceExhausted) the limits below
//   hf.generation_config.utf8 / .type   generation_config.json not UTF-8, not
//                            an object (when non-empty), or a sampling value
//                            of a type gguf-py cannot pack (top_k: 40.5)
//   hf.config.type           config.json's `_name_or_path` not a string
//   hf.model_card.internal   (kInternal) an unexpected exception, caught
// Where the reference ignores something, so does ckpt: no README.md, no
// front matter, front matter that is not a mapping, generation_config.json
// missing, unreadable, not JSON or starting with a byte-order mark,
// base_model/dataset entries of unknown shape (they still count, as empty
// entries, as in the reference). generation_config.json is read as Python's
// json reads it: NaN, Infinity and -Infinity are numbers, lone surrogate
// escapes are kept (and fail only where such a string would be written).
//
// Limits (never unbounded memory or work; the reference has none):
// README.md at most 256 MiB (checked as UTF-8 in 1 MiB chunks; only the
// first 4 MiB are kept, and the front matter must end within them); YAML
// nesting at most 1000 levels (PyYAML itself dies of RecursionError from
// about 450, where ckpt still answers); at most 2^18 YAML values; anchors
// are shared, never expanded, but tags/languages are written expanded, at
// most 2^20 array elements in all and nested at most as deep as GGUF allows
// (15 levels); generation_config.json at most 16 MiB.
//
// Known differences from the Python (none affects Hub-style ASCII names or
// ordinary model cards; each was checked against gguf-py):
// - Python's str methods and `re` are Unicode-aware. Beyond ASCII, ckpt
//   takes letters and simple case mappings from glibc's C.UTF-8 locale
//   (Python's full mappings differ for ligatures such as "ﬁ" and title-case
//   digraphs such as "ǆ"), and \d and str.isdecimal() stay ASCII digits.
//   Without a C.UTF-8 locale, non-ASCII letters have no case.
// - `.nan` in YAML is gguf-py's x86 NaN (sign bit set, f32 0xffc00000).
// - libyaml and PyYAML's pure-Python parser agree on YAML 1.1 but may differ
//   on rare input: libyaml refuses lone surrogate escapes ("\ud800") in
//   double-quoted scalars, which PyYAML keeps (failing only if written), and
//   skips a byte-order mark at the start of any line, not only the first.
// - Explicit !!int/!!float tags accept YAML 1.1's forms and Python's float()
//   forms only, not every string Python's int()/float() would take; base-60
//   floats with more than 11 parts are refused.
// - Merging an enclosing mapping into itself (`<<: *self`) or an !!omap is
//   refused.
// - LoRA adapter tensors (.lora_a/.lora_b, whose count gguf-py negates) are
//   counted as ordinary tensors; model conversion never produces them.
#ifndef CKPT_FORMATS_HF_MODEL_CARD_H_
#define CKPT_FORMATS_HF_MODEL_CARD_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "ckpt/gguf.h"
#include "nlohmann/json.hpp"

namespace ckpt::hf {

// Parameter counts as gguf_writer.get_total_parameter_count returns them.
struct ParamCounts {
  uint64_t total = 0, shared = 0, expert = 0, expert_count = 0;
};

// CountParams
//
// The counts for the output tensors: GGUF names and shapes in numpy order
// (outermost first). A tensor whose name holds "_exps." with 3 or more
// dimensions is an expert tensor: its expert count is shape[-3]
// (shape[-2] for a ".bias"), it adds size / count to `expert`, and
// `expert_count` is the mean of those counts (integer division). Every
// other tensor adds to `shared`; all add to `total`. Sums saturate at
// 2^64 - 1; an expert count of 0 adds nothing (gguf-py would divide by 0).
ParamCounts CountParams(absl::Span<const std::pair<std::string, std::vector<uint64_t>>> tensors);

// SizeLabel
//
// gguf.size_label: "1.5M", "8.0B", "0.50K", or "<experts>x<per-expert>" such
// as "8x7.2B" when expert_count > 0 (the shared plus one expert's
// parameters, rounded as gguf-py rounds them).
std::string SizeLabel(const ParamCounts& params);

// What Metadata.get_model_id_components extracts from a model id such as
// "meta-llama/Meta-Llama-3-8B-Instruct" (nullopt where Python gives None).
struct ModelIdComponents {
  std::optional<std::string> full_name;     // the part after the first '/'
  std::optional<std::string> organization;  // the part before it (raw)
  std::optional<std::string> basename, finetune, version, size_label;
};

// GetModelIdComponents
//
// Metadata.get_model_id_components(model_id, total_params) (ASCII
// semantics, see above). `total_params` decides whether a size-like part
// ("128k", "8B") is the model size or, when far from it, a finetune.
ModelIdComponents GetModelIdComponents(std::string_view model_id, uint64_t total_params);

// IdToTitle
//
// Metadata.id_to_title: "tiny-llama" → "Tiny Llama"; words that are not
// all lower case, versions ("v0.3") and words starting with a digit are
// kept as they are.
std::string IdToTitle(std::string_view id);

// ModelCardKvs
//
// The KVs above, in the converter's order, starting with general.type, for
// the model directory `dir` (used as written, like Python's Path(dir): its
// name is the last component that is not "." — so "." has the empty name and
// gets no general.name, as with the reference). `config` is config.json as
// parsed from the file, before any text_config merging (the reference
// re-reads the file; only `_name_or_path` is used). `params` are the output
// tensors' counts (CountParams). Reads README.md and
// generation_config.json from `dir`; touches nothing else. Errors: see the
// list above, each naming the file.
absl::StatusOr<std::vector<GgufKvToWrite>> ModelCardKvs(const std::string& dir, const nlohmann::json& config,
                                                        const ParamCounts& params);

}  // namespace ckpt::hf

#endif  // CKPT_FORMATS_HF_MODEL_CARD_H_
