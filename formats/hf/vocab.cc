// Tokenizer → GGUF KVs as convert_hf_to_gguf.py (conversion/base.py
// _create_vocab_sentencepiece, get_vocab_base) and gguf-py's SpecialVocab
// (vocab.py) write them, and the way back.
#include "formats/hf/vocab.h"

#include <map>
#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/str_replace.h"
#include "ckpt/atomic_file.h"
#include "ckpt/status.h"
#include "formats/hf/sentencepiece.h"
#include "lib/fs_util.h"
#include "lib/str_util.h"

namespace ckpt::hf {
namespace {

using json = nlohmann::json;

// gguf TokenType (= SentencePieceTokenTypes).
enum TokenType : int32_t { kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kUnused = 5, kByte = 6 };

constexpr uint64_t kMaxTokenizerBytes = 512ull << 20;

struct Vocab {
  std::string model, pre;
  std::vector<std::string> tokens;
  std::vector<float> scores;  // empty for BPE
  std::vector<int32_t> types;
  std::vector<std::string> merges;
};

std::string PathIn(const std::string& dir, std::string_view name) { return StrCat(dir, "/", name); }

// The file's JSON, or nullopt when it does not exist.
absl::StatusOr<std::optional<json>> OptionalJson(const std::string& path) {
  if (!IsRegularFile(path)) return std::optional<json>();
  CKPT_ASSIGN_OR_RETURN(json j, ReadJsonFile(path, kMaxTokenizerBytes));
  return std::optional<json>(std::move(j));
}

// TextModel.does_token_look_special.
bool LooksSpecial(std::string_view t) {
  if (t == "<pad>" || t == "<mask>" || t == "<2mass>" || t == "[@BOS@]") return true;
  auto wraps = [&](std::string_view a, std::string_view b) {
    return t.size() >= a.size() + b.size() && t.substr(0, a.size()) == a && t.substr(t.size() - b.size()) == b;
  };
  return wraps("<|", "|>") || wraps("<\xEF\xBD\x9C", "\xEF\xBD\x9C>") || wraps("<unused", ">");
}

std::string SpaceForLowLine(const std::string& s) { return absl::StrReplaceAll(s, {{"\xE2\x96\x81", " "}}); }

absl::Status JsonError(const std::string& path, std::string detail) {
  return Error("hf.tokenizer.json", std::move(detail)).File(path);
}

// ---- SentencePiece ------------------------------------------------------

absl::StatusOr<Vocab> SentencePieceVocab(const std::string& dir, const json& config) {
  const std::string path = PathIn(dir, "tokenizer.model");
  CKPT_ASSIGN_OR_RETURN(std::string bytes, ReadSmallFile(path, kMaxTokenizerBytes));
  CKPT_ASSIGN_OR_RETURN(SentencePieceModel sp,
                        ParseSentencePiece(absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(bytes.data()),
                                                               bytes.size()),
                                           path));
  // find_hparam(["vocab_size_per_layer_input", "vocab_size"]) or the piece count.
  int64_t vocab_size = 0;
  for (const char* k : {"vocab_size_per_layer_input", "vocab_size"}) {
    const auto it = config.find(k);
    if (it == config.end()) continue;
    if (it->is_number_integer()) vocab_size = it->get<int64_t>();
    break;
  }
  if (vocab_size <= 0) vocab_size = static_cast<int64_t>(sp.pieces.size());
  if (vocab_size > (1 << 24)) {
    return Error("hf.tokenizer.size", StrCat("vocab_size ", vocab_size, " is beyond 2^24")).File(path);
  }
  Vocab v;
  v.model = "llama";
  v.pre = "default";
  v.tokens.resize(vocab_size);
  for (int64_t i = 0; i < vocab_size; ++i) v.tokens[i] = StrCat("[PAD", i, "]");
  v.scores.assign(vocab_size, -10000.0f);
  v.types.assign(vocab_size, kUnused);
  for (size_t i = 0; i < sp.pieces.size() && static_cast<int64_t>(i) < vocab_size; ++i) {
    const SentencePieceModel::Piece& p = sp.pieces[i];
    int32_t t = kNormal;  // user-defined pieces stay NORMAL, as in the converter
    if (p.type == PieceType::kUnknown) t = kUnknown;
    else if (p.type == PieceType::kControl) t = kControl;
    else if (p.type == PieceType::kUnused) t = kUnused;
    else if (p.type == PieceType::kByte) t = kByte;
    v.tokens[i] = p.text;
    v.scores[i] = p.score;
    v.types[i] = t;
  }
  const std::string added_path = PathIn(dir, "added_tokens.json");
  CKPT_ASSIGN_OR_RETURN(std::optional<json> added, OptionalJson(added_path));
  if (added) {
    if (!added->is_object()) return JsonError(added_path, "not an object of token → id");
    for (auto it = added->begin(); it != added->end(); ++it) {
      if (!it.value().is_number_integer() || it.value().get<int64_t>() < 0) {
        return JsonError(added_path, StrCat("id of \"", it.key(), "\" is not a non-negative integer"));
      }
      const int64_t id = it.value().get<int64_t>();
      if (id >= vocab_size) continue;
      v.tokens[id] = it.key();
      v.scores[id] = -1000.0f;
      v.types[id] = kUserDefined;
    }
  }
  const std::string tc_path = PathIn(dir, "tokenizer_config.json");
  CKPT_ASSIGN_OR_RETURN(std::optional<json> tc, OptionalJson(tc_path));
  if (tc && tc->is_object()) {
    const auto dec = tc->find("added_tokens_decoder");
    if (dec != tc->end() && dec->is_object()) {
      for (auto it = dec->begin(); it != dec->end(); ++it) {
        int64_t id;
        if (!absl::SimpleAtoi(AbslView(it.key()), &id) || id < 0) {
          return JsonError(tc_path, StrCat("added_tokens_decoder key \"", it.key(), "\" is not a token id"));
        }
        const auto content = it.value().find("content");
        if (content == it.value().end() || !content->is_string()) {
          return JsonError(tc_path, StrCat("added_tokens_decoder[", id, "] has no string content"));
        }
        if (id >= vocab_size) continue;
        std::string token = content->get<std::string>();
        const auto special = it.value().find("special");
        const bool is_special = special != it.value().end() && special->is_boolean() && special->get<bool>();
        if (is_special || LooksSpecial(token)) {
          v.types[id] = kControl;
        } else {
          token = SpaceForLowLine(token);
          v.types[id] = kUserDefined;
        }
        v.scores[id] = -1000.0f;
        v.tokens[id] = std::move(token);
      }
    }
  }
  return v;
}

// ---- BPE (tokenizer.json) -----------------------------------------------------

// Pre-tokenizers the converter knows by hash (get_vocab_base_pre), known
// here by their configuration: the Split regex of the Sequence, with a
// ByteLevel step that does not split again.
struct KnownPre {
  std::string_view name;
  std::string_view regex;  // "" = ByteLevel with use_regex (GPT-2's own split)
};
constexpr KnownPre kKnownPre[] = {
    // Llama 3 (chkhsh 0ef9807a4087ebef...): digits in runs of up to 3.
    {"llama-bpe",
     "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|"
     "\\s+(?!\\S)|\\s+"},
    // Qwen2 / Qwen2.5 / Qwen3 (chkhsh e636dc30a262dcc0...): single digits.
    {"qwen2",
     "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|"
     "\\s+(?!\\S)|\\s+"},
    // GPT-2 (chkhsh 3ce83efda5659b07...): ByteLevel's built-in split.
    {"gpt-2", ""},
};

absl::StatusOr<std::string> BpePreTokenizer(const json& tok, const std::string& path) {
  const auto pre = tok.find("pre_tokenizer");
  std::string found = pre == tok.end() ? "none" : pre->dump();
  if (pre != tok.end() && pre->is_object()) {
    std::vector<json> steps;
    if ((*pre)["type"] == "Sequence" && pre->contains("pretokenizers") && (*pre)["pretokenizers"].is_array()) {
      for (const json& s : (*pre)["pretokenizers"]) steps.push_back(s);
    } else {
      steps.push_back(*pre);
    }
    std::optional<std::string> regex;
    bool byte_level = false, byte_level_regex = false, other = false;
    for (const json& s : steps) {
      if (!s.is_object()) {
        other = true;
        continue;
      }
      const json type = s.value("type", json());
      if (type == "Split" && s.contains("pattern") && s["pattern"].is_object() && s["pattern"].contains("Regex") &&
          s["pattern"]["Regex"].is_string() && !regex) {
        regex = s["pattern"]["Regex"].get<std::string>();
      } else if (type == "ByteLevel") {
        byte_level = true;
        byte_level_regex = s.value("use_regex", true);
      } else {
        other = true;
      }
    }
    if (byte_level && !other) {
      for (const KnownPre& k : kKnownPre) {
        if (k.regex.empty() ? (!regex && byte_level_regex) : (regex && *regex == k.regex && !byte_level_regex)) {
          return std::string(k.name);
        }
      }
    }
  }
  return Error("hf.tokenizer.unknown_pre",
               StrCat("the BPE pre-tokenizer is not one ckpt recognises (llama-bpe, qwen2, gpt-2); found ",
                      found.substr(0, 300), ". convert_hf_to_gguf.py identifies it by hashing a tokenization, "
                      "which needs the Hugging Face tokenizer; ckpt matches the configuration instead"))
      .File(path)
      .Code(absl::StatusCode::kUnimplemented);
}

absl::StatusOr<Vocab> BpeVocab(const std::string& dir, const json& config) {
  const std::string path = PathIn(dir, "tokenizer.json");
  CKPT_ASSIGN_OR_RETURN(json tok, ReadJsonFile(path, kMaxTokenizerBytes));
  if (!tok.is_object() || !tok.contains("model") || !tok["model"].is_object()) {
    return JsonError(path, "no \"model\" object");
  }
  const json& model = tok["model"];
  if (model.value("type", json()) != "BPE" || !model.contains("vocab") || !model["vocab"].is_object()) {
    return Error("hf.tokenizer.unsupported", StrCat("tokenizer.json model type ", model.value("type", json()).dump(),
                                                    " (only BPE vocabularies are converted)"))
        .File(path)
        .Code(absl::StatusCode::kUnimplemented);
  }
  Vocab v;
  v.model = "gpt2";
  CKPT_ASSIGN_OR_RETURN(v.pre, BpePreTokenizer(tok, path));
  std::map<int64_t, std::string> by_id;
  for (auto it = model["vocab"].begin(); it != model["vocab"].end(); ++it) {
    if (!it.value().is_number_integer() || it.value().get<int64_t>() < 0 || it.value().get<int64_t>() >= (1 << 24)) {
      return JsonError(path, StrCat("id of \"", it.key(), "\" is not in 0..2^24"));
    }
    by_id[it.value().get<int64_t>()] = it.key();
  }
  std::map<int64_t, bool> added;  // id → special
  if (tok.contains("added_tokens") && tok["added_tokens"].is_array()) {
    for (const json& a : tok["added_tokens"]) {
      if (!a.is_object() || !a.contains("id") || !a["id"].is_number_integer() || !a.contains("content") ||
          !a["content"].is_string() || a["id"].get<int64_t>() < 0 || a["id"].get<int64_t>() >= (1 << 24)) {
        return JsonError(path, "an added_tokens entry lacks an id in 0..2^24 or a string content");
      }
      by_id[a["id"].get<int64_t>()] = a["content"].get<std::string>();
      added[a["id"].get<int64_t>()] = a.value("special", false);
    }
  }
  int64_t vocab_size = by_id.empty() ? 0 : by_id.rbegin()->first + 1;
  if (const auto it = config.find("vocab_size"); it != config.end() && it->is_number_integer()) {
    if (it->get<int64_t>() < vocab_size) {
      return Error("hf.tokenizer.size", StrCat("token id ", vocab_size - 1, " is beyond config vocab_size ",
                                               it->get<int64_t>()))
          .File(path);
    }
    vocab_size = it->get<int64_t>();
  }
  if (vocab_size > (1 << 24)) return Error("hf.tokenizer.size", "vocab_size is beyond 2^24").File(path);
  for (int64_t i = 0; i < vocab_size; ++i) {
    const auto it = by_id.find(i);
    if (it == by_id.end()) {
      v.tokens.push_back(StrCat("[PAD", i, "]"));
      v.types.push_back(kUnused);
      continue;
    }
    std::string token = it->second;
    const auto a = added.find(i);
    if (a == added.end()) {
      v.types.push_back(kNormal);
    } else if (a->second || LooksSpecial(token)) {
      v.types.push_back(kControl);
    } else {
      token = SpaceForLowLine(token);
      v.types.push_back(kUserDefined);
    }
    v.tokens.push_back(std::move(token));
  }
  return v;
}

// ---- SpecialVocab -------------------------------------------------------------

struct SpecialVocab {
  std::vector<std::pair<std::string, int64_t>> ids;   // type → id, insertion order
  std::vector<std::pair<std::string, bool>> add;      // add_<type>_token
  std::vector<std::string> merges;
  std::optional<json> chat_template;                  // string or list
  std::vector<std::string> types = {"bos", "eos", "unk", "sep", "pad", "cls", "mask"};
  std::optional<int64_t> n_vocab;

  void SetId(const std::string& type, const json& id) {
    if (!id.is_number_integer() || id.get<int64_t>() < 0) return;
    const int64_t t = id.get<int64_t>();
    if (n_vocab && t >= *n_vocab) return;
    for (const auto& [k, v] : ids) {
      if (k == type) return;
    }
    ids.push_back({type, t});
  }
  void SetAdd(const std::string& type, bool value) {
    for (auto& [k, v] : add) {
      if (k == type) {
        v = value;
        return;
      }
    }
    add.push_back({type, value});
  }
};

// Python truthiness of a JSON value.
bool Truthy(const json& v) {
  if (v.is_null()) return false;
  if (v.is_boolean()) return v.get<bool>();
  if (v.is_number()) return v.get<double>() != 0;
  if (v.is_string() || v.is_array() || v.is_object()) return !v.empty();
  return true;
}

json Get(const json& obj, const char* key) {
  return obj.is_object() && obj.contains(key) ? obj[key] : json();
}

// `item.get('SpecialToken', {}).get('id')` of a template piece.
json SpecialId(const json& piece) { return Get(Get(piece, "SpecialToken"), "id"); }

// SpecialVocab._try_load_from_tokenizer_json's reading of the post-processor:
// RobertaProcessing adds bos/eos/sep; a TemplateProcessing's single template
// decides add_bos/add_eos (and may rename bos/eos/cls/sep in `tc`, moving an
// old EOS to eot/eom), its pair template add_sep. `tc` is the converter's
// working copy of tokenizer_config.json ({} when absent).
void ApplyPostProcessor(const json& post, json& tc, SpecialVocab& s) {
  const bool has_tc = Truthy(tc);
  json bos = Get(tc, "bos_token"), cls = Get(tc, "cls_token"), eos = Get(tc, "eos_token"), sep = Get(tc, "sep_token");
  if (!Truthy(bos) && Truthy(cls) && has_tc) tc["bos_token"] = bos = cls;
  if (!Truthy(eos) && Truthy(sep) && has_tc) tc["eos_token"] = eos = sep;
  const json processors = post.is_object() && post.contains("processors") ? post["processors"] : json::array({post});
  if (!processors.is_array()) return;
  for (const json& p : processors) {
    const json type = Get(p, "type");
    if (type == "RobertaProcessing") {
      s.SetAdd("bos", true);
      s.SetAdd("eos", true);
      s.SetAdd("sep", true);
      if (!Truthy(cls) && has_tc) {
        const json c = Get(p, "cls");
        cls = c.is_array() && !c.empty() ? c[0] : bos;
        tc["cls_token"] = cls;
      }
      if (!Truthy(sep) && has_tc) {
        const json c = Get(p, "sep");
        sep = c.is_array() && !c.empty() ? c[0] : eos;
        tc["sep_token"] = sep;
      }
      continue;
    }
    if (type != "TemplateProcessing") continue;
    json single = Get(p, "single"), pair = Get(p, "pair");
    if (!single.is_array()) single = json::array();
    if (!pair.is_array()) pair = json::array();
    json first, last;
    if (single.size() > 1) {
      first = SpecialId(single.front());
      if (Truthy(first)) {
        if (!has_tc) {
          bos = first;
        } else if (first != bos && first != cls) {
          if (!Truthy(bos)) tc["bos_token"] = bos = first;
          if (!Truthy(cls)) tc["cls_token"] = cls = first;
        }
        s.SetAdd("bos", first == bos || first == cls);
      }
      last = SpecialId(single.back());
      if (Truthy(last)) {
        if (!has_tc) {
          eos = last;
        } else if (last != eos) {
          auto has_type = [&](const char* t) { return std::find(s.types.begin(), s.types.end(), t) != s.types.end(); };
          if (!has_type("eot")) {
            s.types.push_back("eot");
            tc["eot_token"] = eos;
          } else if (!has_type("eom")) {
            s.types.push_back("eom");
            tc["eom_token"] = eos;
          }
          tc["eos_token"] = eos = last;
        }
        s.SetAdd("eos", last == eos);
      }
    }
    if (!pair.empty()) {
      const size_t start = Truthy(first) && SpecialId(pair.front()) == first ? 1 : 0;
      const bool drop_last = Truthy(last) && SpecialId(pair.back()) == last;
      json mid = json::array();
      for (size_t i = start; i + (drop_last ? 1 : 0) < pair.size(); ++i) mid.push_back(pair[i]);
      if (!mid.empty()) {
        const json a = Get(Get(mid.front(), "Sequence"), "id"), b = Get(Get(mid.back(), "Sequence"), "id");
        if (a == "A" && b == "B" && mid.size() > 2) {
          // A [sep] [eos] B
          bool add_sep = false;
          const json e1 = SpecialId(mid[1]);
          if (Truthy(e1) && (e1 == sep || e1 == eos) && !Truthy(last)) add_sep = true;
          if (mid.size() - 2 == 2) {
            const json e2 = SpecialId(mid[2]);
            if (Truthy(e2) && (e2 == sep || e2 == eos)) add_sep = true;
          }
          s.SetAdd("sep", add_sep);
          if (add_sep && !Truthy(sep) && has_tc) tc["sep_token"] = eos;
        }
      }
    }
  }
}

absl::StatusOr<SpecialVocab> LoadSpecialVocab(const std::string& dir, std::optional<int64_t> n_vocab,
                                              bool load_merges, std::vector<std::string> types = {}) {
  SpecialVocab s;
  s.n_vocab = n_vocab;
  if (!types.empty()) s.types = std::move(types);
  const std::string tc_path = PathIn(dir, "tokenizer_config.json");
  CKPT_ASSIGN_OR_RETURN(std::optional<json> tc, OptionalJson(tc_path));
  const std::string tok_path = PathIn(dir, "tokenizer.json");
  CKPT_ASSIGN_OR_RETURN(std::optional<json> tok, OptionalJson(tok_path));
  json added_tokens = json::array();
  if (tok && tok->is_object()) {
    if (load_merges) {
      const json merges = tok->contains("model") && (*tok)["model"].is_object()
                              ? (*tok)["model"].value("merges", json())
                              : json();
      if (merges.is_array() && !merges.empty()) {
        for (const json& m : merges) {
          if (m.is_string()) {
            s.merges.push_back(m.get<std::string>());
          } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
            // Pairs: spaces inside the parts become U+0120 (chr(ord(' ') + 256)).
            auto enc = [](const std::string& p) { return absl::StrReplaceAll(p, {{" ", "\xC4\xA0"}}); };
            s.merges.push_back(StrCat(enc(m[0].get<std::string>()), " ", enc(m[1].get<std::string>())));
          } else {
            return JsonError(tok_path, "unknown tokenizer merges format");
          }
        }
      }
    }
    if (tok->contains("post_processor") && Truthy((*tok)["post_processor"])) {
      if (!tc || !tc->is_object()) tc = json::object();  // the converter's `tokenizer_config or {}`
      ApplyPostProcessor((*tok)["post_processor"], *tc, s);
    }
    if (tok->contains("added_tokens") && (*tok)["added_tokens"].is_array()) added_tokens = (*tok)["added_tokens"];
  }
  if (tc && tc->is_object() && !tc->empty()) {
    std::optional<json> alt;
    const std::string jinja = PathIn(dir, "chat_template.jinja");
    if (IsRegularFile(jinja)) {
      CKPT_ASSIGN_OR_RETURN(std::string t, ReadSmallFile(jinja, kMaxTokenizerBytes));
      alt = json(t);
    } else {
      CKPT_ASSIGN_OR_RETURN(std::optional<json> ct, OptionalJson(PathIn(dir, "chat_template.json")));
      if (ct && ct->is_object() && ct->contains("chat_template")) alt = (*ct)["chat_template"];
    }
    json chat = tc->contains("chat_template") ? (*tc)["chat_template"] : alt.value_or(json());
    if (chat.is_string() || chat.is_array()) s.chat_template = chat;
    for (const std::string& type : s.types) {
      const auto add = tc->find(StrCat("add_", type, "_token"));
      if (add != tc->end() && add->is_boolean()) s.SetAdd(type, add->get<bool>());
      const auto entry = tc->find(StrCat(type, "_token"));
      if (entry == tc->end()) continue;
      std::string content;
      if (entry->is_string()) {
        content = entry->get<std::string>();
      } else if (entry->is_object() && entry->contains("content") && (*entry)["content"].is_string()) {
        content = (*entry)["content"].get<std::string>();
      } else {
        continue;
      }
      for (const json& a : added_tokens) {
        if (a.is_object() && a.value("content", json()) == content) {
          s.SetId(type, a.value("id", json()));
          break;
        }
      }
    }
  }
  const std::string cfg_path = PathIn(dir, "config.json");
  CKPT_ASSIGN_OR_RETURN(std::optional<json> cfg, OptionalJson(cfg_path));
  if (cfg && cfg->is_object()) {
    for (const std::string& type : s.types) {
      json id = cfg->value(StrCat(type, "_token_id"), json());
      if (id.is_null() && cfg->contains("text_config") && (*cfg)["text_config"].is_object()) {
        id = (*cfg)["text_config"].value(StrCat(type, "_token_id"), json());
      }
      s.SetId(type, id);
    }
  }
  return s;
}

// gguf-py key names for special token types (types without a writer method are skipped).
std::optional<std::string> IdKey(const std::string& type) {
  static const std::map<std::string, std::string> kKeys = {
      {"bos", "bos_token_id"},     {"eos", "eos_token_id"}, {"unk", "unknown_token_id"},
      {"sep", "seperator_token_id"}, {"pad", "padding_token_id"}, {"mask", "mask_token_id"},
      {"eot", "eot_token_id"},     {"eom", "eom_token_id"}};
  const auto it = kKeys.find(type);
  if (it == kKeys.end()) return std::nullopt;
  return StrCat("tokenizer.ggml.", it->second);
}

void AddSpecialKvs(const SpecialVocab& s, std::vector<GgufKvToWrite>& kvs) {
  auto set = [&](std::string key, GgufOwnedValue v) {
    for (GgufKvToWrite& kv : kvs) {
      if (kv.key == key) {
        kv.value = std::move(v);
        return;
      }
    }
    kvs.push_back({std::move(key), std::move(v)});
  };
  if (!s.merges.empty()) {
    std::vector<GgufOwnedValue> m;
    m.reserve(s.merges.size());
    for (const std::string& x : s.merges) m.push_back(GgufOwnedValue::String(x));
    set("tokenizer.ggml.merges", GgufOwnedValue::Array(GgufType::kString, std::move(m)));
  }
  for (const auto& [type, id] : s.ids) {
    if (std::optional<std::string> key = IdKey(type)) {
      set(*key, GgufOwnedValue::Unsigned(GgufType::kU32, static_cast<uint64_t>(id)));
    }
  }
  for (const auto& [type, value] : s.add) {
    if (type == "bos" || type == "eos" || type == "sep") set(StrCat("tokenizer.ggml.add_", type, "_token"), GgufOwnedValue::Bool(value));
  }
  if (s.chat_template) {
    if (s.chat_template->is_string()) {
      set("tokenizer.chat_template", GgufOwnedValue::String(s.chat_template->get<std::string>()));
    } else {
      // A list of named templates: tokenizer.chat_template(.NAME) plus the name list.
      std::vector<GgufOwnedValue> names;
      for (const json& t : *s.chat_template) {
        if (!t.is_object() || !t.contains("name") || !t.contains("template") || !t["name"].is_string() ||
            !t["template"].is_string()) {
          continue;
        }
        const std::string name = t["name"].get<std::string>();
        const std::string key = name == "default" ? "tokenizer.chat_template" : StrCat("tokenizer.chat_template.", name);
        if (name != "default") names.push_back(GgufOwnedValue::String(name));
        set(key, GgufOwnedValue::String(t["template"].get<std::string>()));
      }
      if (!names.empty()) set("tokenizer.chat_templates", GgufOwnedValue::Array(GgufType::kString, std::move(names)));
    }
  }
}

void AddVocabKvs(const Vocab& v, std::vector<GgufKvToWrite>& kvs) {
  kvs.push_back({"tokenizer.ggml.model", GgufOwnedValue::String(v.model)});
  kvs.push_back({"tokenizer.ggml.pre", GgufOwnedValue::String(v.pre)});
  std::vector<GgufOwnedValue> tokens, scores, types;
  tokens.reserve(v.tokens.size());
  for (const std::string& t : v.tokens) tokens.push_back(GgufOwnedValue::String(t));
  kvs.push_back({"tokenizer.ggml.tokens", GgufOwnedValue::Array(GgufType::kString, std::move(tokens))});
  if (!v.scores.empty()) {
    scores.reserve(v.scores.size());
    for (float f : v.scores) scores.push_back(GgufOwnedValue::F32(f));
    kvs.push_back({"tokenizer.ggml.scores", GgufOwnedValue::Array(GgufType::kF32, std::move(scores))});
  }
  types.reserve(v.types.size());
  for (int32_t t : v.types) types.push_back(GgufOwnedValue::Signed(GgufType::kI32, t));
  kvs.push_back({"tokenizer.ggml.token_type", GgufOwnedValue::Array(GgufType::kI32, std::move(types))});
}

}  // namespace

absl::StatusOr<std::vector<GgufKvToWrite>> TokenizerKvs(const std::string& dir, const nlohmann::json& config,
                                                        VocabStyle style) {
  std::vector<GgufKvToWrite> kvs;
  const bool has_sp = IsRegularFile(PathIn(dir, "tokenizer.model"));
  const bool has_json = IsRegularFile(PathIn(dir, "tokenizer.json"));
  if (style == VocabStyle::kLlama) {
    // LlamaModel.set_vocab: add_prefix_space from tokenizer_config first.
    CKPT_ASSIGN_OR_RETURN(std::optional<json> tc, OptionalJson(PathIn(dir, "tokenizer_config.json")));
    if (tc && tc->is_object() && tc->contains("add_prefix_space") && (*tc)["add_prefix_space"].is_boolean()) {
      kvs.push_back({"tokenizer.ggml.add_space_prefix", GgufOwnedValue::Bool((*tc)["add_prefix_space"].get<bool>())});
    }
    if (IsRegularFile(PathIn(dir, "tekken.json")) && !has_json) {
      return Error("hf.tokenizer.unsupported", "Mistral tekken.json tokenizers are not converted yet")
          .File(PathIn(dir, "tekken.json"))
          .Code(absl::StatusCode::kUnimplemented);
    }
    if (config.value("vocab_size", 0) == 32016 || config.value("vocab_size", 0) == 49152) {
      return Error("hf.tokenizer.unsupported",
                   "CodeLlama (vocab 32016) and Granite (49152) vocabularies get special handling ckpt lacks")
          .Code(absl::StatusCode::kUnimplemented);
    }
  }
  if (!has_sp && !has_json) {
    return Error("hf.tokenizer.missing", "no tokenizer.model or tokenizer.json in the model directory")
        .File(dir)
        .Code(absl::StatusCode::kFailedPrecondition);
  }
  if (has_sp) {
    CKPT_ASSIGN_OR_RETURN(Vocab v, SentencePieceVocab(dir, config));
    AddVocabKvs(v, kvs);
    CKPT_ASSIGN_OR_RETURN(SpecialVocab s, LoadSpecialVocab(dir, static_cast<int64_t>(v.tokens.size()), false));
    AddSpecialKvs(s, kvs);
    if (style == VocabStyle::kGemma) {
      // GemmaModel.set_vocab: a second SpecialVocab for FIM/EOT types; only
      // eot has a writer method, and 107 is its default id.
      CKPT_ASSIGN_OR_RETURN(SpecialVocab g,
                            LoadSpecialVocab(dir, std::nullopt, false, {"prefix", "suffix", "middle", "fsep", "eot"}));
      g.SetId("eot", json(107));
      g.chat_template.reset();
      AddSpecialKvs(g, kvs);
      kvs.push_back({"tokenizer.ggml.add_space_prefix", GgufOwnedValue::Bool(false)});
    }
    return kvs;
  }
  if (style == VocabStyle::kGemma) {
    return Error("hf.tokenizer.missing", "Gemma needs tokenizer.model").File(dir).Code(absl::StatusCode::kFailedPrecondition);
  }
  CKPT_ASSIGN_OR_RETURN(Vocab v, BpeVocab(dir, config));
  AddVocabKvs(v, kvs);
  CKPT_ASSIGN_OR_RETURN(SpecialVocab s, LoadSpecialVocab(dir, std::nullopt, true));
  AddSpecialKvs(s, kvs);
  return kvs;
}

// ---- back to files ------------------------------------------------------------

absl::StatusOr<std::vector<std::string>> WriteHfTokenizerFiles(const GgufFile& g, const std::string& dir) {
  std::vector<std::string> written;
  const std::optional<std::string_view> model = g.GetString("tokenizer.ggml.model");
  if (!model) return written;
  auto strings = [&](std::string_view key) {
    std::vector<std::string> out;
    if (const GgufKv* kv = g.FindKv(key); kv && kv->value.type == GgufType::kArray) {
      g.ForEachElement(kv->value, [&](const GgufValue& e) {
        if (e.type == GgufType::kString) out.emplace_back(g.ReadString(e));
        return true;
      });
    }
    return out;
  };
  auto flag = [&](std::string_view key) -> std::optional<bool> {
    const GgufKv* kv = g.FindKv(key);
    if (!kv || kv->value.type != GgufType::kBool) return std::nullopt;
    return g.ReadUnsigned(kv->value) != 0;
  };
  std::vector<std::string> tokens = strings("tokenizer.ggml.tokens");
  std::vector<float> scores;
  std::vector<int32_t> types;
  if (const GgufKv* kv = g.FindKv("tokenizer.ggml.scores"); kv && kv->value.type == GgufType::kArray) {
    g.ForEachElement(kv->value, [&](const GgufValue& e) {
      scores.push_back(static_cast<float>(g.ReadFloat(e)));
      return true;
    });
  }
  if (const GgufKv* kv = g.FindKv("tokenizer.ggml.token_type"); kv && kv->value.type == GgufType::kArray) {
    g.ForEachElement(kv->value, [&](const GgufValue& e) {
      types.push_back(static_cast<int32_t>(g.ReadSigned(e)));
      return true;
    });
  }
  if (types.size() != tokens.size() || (!scores.empty() && scores.size() != tokens.size())) {
    return Error("hf.export.tokenizer", "tokens, scores and token_type differ in length").File(g.path());
  }
  auto write = [&](const std::string& name, const std::string& bytes) -> absl::Status {
    CKPT_ASSIGN_OR_RETURN(std::unique_ptr<AtomicOutputFile> f, AtomicOutputFile::Create(PathIn(dir, name)));
    CKPT_RETURN_IF_ERROR(f->Write(bytes));
    CKPT_RETURN_IF_ERROR(f->Commit());
    written.push_back(name);
    return absl::OkStatus();
  };
  // Added tokens (control and user-defined) go to added_tokens_decoder, which
  // sets their type and score -1000 again on the way back.
  nlohmann::ordered_json decoder = nlohmann::ordered_json::object();
  nlohmann::ordered_json tc;
  if (*model == "llama") {
    // Trailing [PAD{i}] placeholders come back from config.json's vocab_size.
    size_t n = tokens.size();
    while (n > 0 && types[n - 1] == kUnused && tokens[n - 1] == StrCat("[PAD", n - 1, "]") &&
           (scores.empty() || scores[n - 1] == -10000.0f)) {
      --n;
    }
    SentencePieceModel sp;
    sp.model_type = 2;
    sp.add_dummy_prefix = flag("tokenizer.ggml.add_space_prefix").value_or(true);
    for (size_t i = 0; i < n; ++i) {
      SentencePieceModel::Piece p;
      p.text = tokens[i];
      p.score = scores.empty() ? 0.0f : scores[i];
      switch (types[i]) {
        case kUnknown: p.type = PieceType::kUnknown; break;
        case kControl: p.type = PieceType::kControl; break;
        case kUserDefined: p.type = PieceType::kUserDefined; break;
        case kUnused: p.type = PieceType::kUnused; break;
        case kByte: p.type = PieceType::kByte; sp.byte_fallback = true; break;
        default: p.type = PieceType::kNormal; break;
      }
      if ((types[i] == kControl || types[i] == kUserDefined) && p.score == -1000.0f) {
        decoder[StrCat(i)] = {{"content", tokens[i]}, {"lstrip", false}, {"normalized", false}, {"rstrip", false},
                              {"single_word", false}, {"special", types[i] == kControl}};
      }
      sp.pieces.push_back(std::move(p));
    }
    CKPT_RETURN_IF_ERROR(write("tokenizer.model", SerializeSentencePiece(sp)));
  } else if (*model == "gpt2") {
    nlohmann::ordered_json vocab = nlohmann::ordered_json::object();
    nlohmann::ordered_json added = nlohmann::ordered_json::array();
    for (size_t i = 0; i < tokens.size(); ++i) {
      if (types[i] == kUnused && tokens[i] == StrCat("[PAD", i, "]")) continue;
      if (types[i] == kControl || types[i] == kUserDefined) {
        added.push_back({{"id", i}, {"content", tokens[i]}, {"single_word", false}, {"lstrip", false},
                         {"rstrip", false}, {"normalized", false}, {"special", types[i] == kControl}});
        decoder[StrCat(i)] = {{"content", tokens[i]}, {"lstrip", false}, {"normalized", false}, {"rstrip", false},
                              {"single_word", false}, {"special", types[i] == kControl}};
      } else {
        vocab[tokens[i]] = i;
      }
    }
    const std::string pre(g.GetString("tokenizer.ggml.pre").value_or(""));
    nlohmann::ordered_json pre_tok;
    for (const KnownPre& k : kKnownPre) {
      if (k.name != pre) continue;
      if (k.regex.empty()) {
        pre_tok = {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", true}};
      } else {
        pre_tok = {{"type", "Sequence"},
                   {"pretokenizers",
                    {{{"type", "Split"}, {"pattern", {{"Regex", std::string(k.regex)}}}, {"behavior", "Isolated"},
                      {"invert", false}},
                     {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", false}, {"use_regex", false}}}}};
      }
    }
    if (pre_tok.is_null()) {
      return Error("hf.export.tokenizer", StrCat("BPE pre-tokenizer \"", pre, "\" has no tokenizer.json form in ckpt"))
          .File(g.path())
          .Code(absl::StatusCode::kUnimplemented);
    }
    nlohmann::ordered_json t;
    t["version"] = "1.0";
    t["added_tokens"] = added;
    t["pre_tokenizer"] = pre_tok;
    t["decoder"] = {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", false}, {"use_regex", false}};
    t["model"] = {{"type", "BPE"}, {"vocab", vocab}, {"merges", strings("tokenizer.ggml.merges")}};
    CKPT_RETURN_IF_ERROR(write("tokenizer.json", t.dump(2) + "\n"));
  } else {
    return Error("hf.export.tokenizer", StrCat("tokenizer model \"", *model, "\" is not written back"))
        .File(g.path())
        .Code(absl::StatusCode::kUnimplemented);
  }
  // tokenizer_config.json: flags, special tokens (by text), template.
  if (const std::optional<bool> f = flag("tokenizer.ggml.add_space_prefix"); f && *model == "llama") {
    tc["add_prefix_space"] = *f;  // LlamaModel reads it back into the same key
  }
  for (const char* type : {"bos", "eos"}) {
    if (const std::optional<bool> f = flag(StrCat("tokenizer.ggml.add_", type, "_token"))) {
      tc[StrCat("add_", type, "_token")] = *f;
    }
  }
  tc["added_tokens_decoder"] = decoder;
  if (std::optional<std::string_view> ct = g.GetString("tokenizer.chat_template")) tc["chat_template"] = std::string(*ct);
  // Special tokens. SpecialVocab takes ids from tokenizer_config.json's
  // <type>_token texts first (in type order, resolved through tokenizer.json's
  // added tokens), then from config.json (which ConvertGgufToHf fills): the
  // longest prefix of the GGUF's id order that is in type order goes to
  // tokenizer_config.json, the rest is left to config.json, so the order
  // comes back too. Without tokenizer.json only config.json counts.
  static constexpr std::pair<const char*, const char*> kTypes[] = {
      {"bos", "bos_token_id"}, {"eos", "eos_token_id"}, {"unk", "unknown_token_id"}, {"sep", "seperator_token_id"},
      {"pad", "padding_token_id"}, {"cls", ""}, {"mask", "mask_token_id"}};
  std::vector<std::pair<int, int64_t>> order;  // (type index, id) in KV order
  for (const GgufKv& kv : g.kvs()) {
    for (int t = 0; t < 7; ++t) {
      if (*kTypes[t].second && kv.key == StrCat("tokenizer.ggml.", kTypes[t].second)) {
        const std::optional<int64_t> id = g.GetInt(kv.key);
        if (id && *id >= 0 && static_cast<size_t>(*id) < tokens.size()) order.push_back({t, *id});
      }
    }
  }
  size_t from_config = 0;
  if (*model == "gpt2") {
    while (from_config < order.size() && (from_config == 0 || order[from_config].first > order[from_config - 1].first)) {
      ++from_config;
    }
  }
  nlohmann::ordered_json special_map = nlohmann::ordered_json::object();
  for (size_t i = 0; i < order.size(); ++i) {
    const std::string key = StrCat(kTypes[order[i].first].first, "_token");
    const std::string& text = tokens[order[i].second];
    tc[key] = i < from_config ? nlohmann::ordered_json(text) : nlohmann::ordered_json();
    special_map[key] = text;
  }
  CKPT_RETURN_IF_ERROR(write("tokenizer_config.json", tc.dump(2) + "\n"));
  CKPT_RETURN_IF_ERROR(write("special_tokens_map.json", special_map.dump(2) + "\n"));
  return written;
}

}  // namespace ckpt::hf
