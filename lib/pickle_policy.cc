// Allowlists and denylists for pickle globals: see lib/pickle_policy.h.
// Sources: torch/_weights_only_unpickler.py (allowlist); picklescan 1.0.5,
// modelscan and fickling 0.1.12 (denylists); digest in
// ../shared/docs/specs/pytorch-and-scanning.md §2, §4, §5.
#include "lib/pickle_policy.h"

#include <algorithm>
#include <array>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "lib/str_util.h"

namespace ckpt {
namespace {

constexpr TorchDType kTorchDTypes[] = {
    {"float64", DType::kF64, 8},        {"double", DType::kF64, 8},
    {"float32", DType::kF32, 4},        {"float", DType::kF32, 4},
    {"float16", DType::kF16, 2},        {"half", DType::kF16, 2},
    {"bfloat16", DType::kBF16, 2},      {"int64", DType::kI64, 8},
    {"long", DType::kI64, 8},           {"int32", DType::kI32, 4},
    {"int", DType::kI32, 4},            {"int16", DType::kI16, 2},
    {"short", DType::kI16, 2},          {"int8", DType::kI8, 1},
    {"uint8", DType::kU8, 1},           {"bool", DType::kBool, 1},
    {"complex64", DType::kC64, 8},      {"cfloat", DType::kC64, 8},
    {"complex128", std::nullopt, 16},   {"cdouble", std::nullopt, 16},
    {"complex32", std::nullopt, 4},     {"chalf", std::nullopt, 4},
    {"float8_e5m2", DType::kF8_E5M2, 1},        {"float8_e4m3fn", DType::kF8_E4M3, 1},
    {"float8_e5m2fnuz", DType::kF8_E5M2FNUZ, 1}, {"float8_e4m3fnuz", DType::kF8_E4M3FNUZ, 1},
    {"float8_e8m0fnu", DType::kF8_E8M0, 1},
    {"uint16", DType::kU16, 2},         {"uint32", DType::kU32, 4},
    {"uint64", DType::kU64, 8},
    {"qint8", std::nullopt, 1},         {"quint8", std::nullopt, 1},
    {"qint32", std::nullopt, 4},        {"quint4x2", std::nullopt, 1},
    {"quint2x4", std::nullopt, 1},      {"bits8", std::nullopt, 1},
    {"bits16", std::nullopt, 2},        {"bits1x8", std::nullopt, 1},
    {"bits2x4", std::nullopt, 1},       {"bits4x2", std::nullopt, 1},
    {"float4_e2m1fn_x2", std::nullopt, 1},
    {"uint1", std::nullopt, 1}, {"uint2", std::nullopt, 1}, {"uint3", std::nullopt, 1},
    {"uint4", std::nullopt, 1}, {"uint5", std::nullopt, 1}, {"uint6", std::nullopt, 1},
    {"uint7", std::nullopt, 1}, {"int1", std::nullopt, 1}, {"int2", std::nullopt, 1},
    {"int3", std::nullopt, 1}, {"int4", std::nullopt, 1}, {"int5", std::nullopt, 1},
    {"int6", std::nullopt, 1}, {"int7", std::nullopt, 1},
};

struct StorageClass {
  std::string_view cls;
  std::string_view dtype;  // torch dtype name
};
constexpr StorageClass kStorageClasses[] = {
    {"DoubleStorage", "float64"},   {"FloatStorage", "float32"},   {"HalfStorage", "float16"},
    {"BFloat16Storage", "bfloat16"}, {"LongStorage", "int64"},      {"IntStorage", "int32"},
    {"ShortStorage", "int16"},      {"CharStorage", "int8"},       {"ByteStorage", "uint8"},
    {"BoolStorage", "bool"},        {"ComplexFloatStorage", "complex64"},
    {"ComplexDoubleStorage", "complex128"}, {"QInt8Storage", "qint8"}, {"QUInt8Storage", "quint8"},
    {"QInt32Storage", "qint32"},    {"QUInt4x2Storage", "quint4x2"}, {"QUInt2x4Storage", "quint2x4"},
    {"UntypedStorage", "uint8"},
};

constexpr std::string_view kLegacyTensorClasses[] = {
    "ByteTensor", "CharTensor", "ShortTensor", "IntTensor", "LongTensor", "HalfTensor",
    "FloatTensor", "DoubleTensor", "BoolTensor", "BFloat16Tensor",
};

// Python 2 module names CPython's unpickler remaps (Lib/_compat_pickle.py,
// IMPORT_MAPPING; the entries that matter for code execution and ours).
constexpr std::pair<std::string_view, std::string_view> kPy2Modules[] = {
    {"__builtin__", "builtins"}, {"copy_reg", "copyreg"}, {"cPickle", "pickle"},
    {"exceptions", "builtins"},  {"commands", "subprocess"}, {"Queue", "queue"},
    {"cStringIO", "io"},         {"StringIO", "io"},      {"urllib2", "urllib.request"},
    {"httplib", "http.client"},  {"SocketServer", "socketserver"}, {"thread", "_thread"},
    {"dummy_thread", "_dummy_thread"}, {"repr", "reprlib"}, {"UserDict", "collections"},
    {"UserList", "collections"}, {"whichdb", "dbm"}, {"anydbm", "dbm"},
    {"cookielib", "http.cookiejar"}, {"urlparse", "urllib.parse"}, {"robotparser", "urllib.robotparser"},
    {"xmlrpclib", "xmlrpc.client"}, {"SimpleHTTPServer", "http.server"}, {"BaseHTTPServer", "http.server"},
    {"CGIHTTPServer", "http.server"}, {"Tkinter", "tkinter"}, {"markupbase", "_markupbase"},
    {"_winreg", "winreg"}, {"_abcoll", "collections.abc"},
};

// Modules (and packages: every submodule too) that run code, touch files,
// processes or the network, or import things. A global is dangerous when any
// dotted prefix of its canonical name is listed, or when any dotted component
// is (that catches "pathlib" + "os.system" and "torch" + "os.system").
constexpr std::string_view kDangerousModules[] = {
    "os", "posix", "nt", "subprocess", "_posixsubprocess", "sys", "socket", "_socket", "shutil",
    "runpy", "pickle", "_pickle", "pickletools", "marshal", "pdb", "bdb", "asyncio", "aiohttp",
    "ctypes", "_ctypes", "pty", "pip", "pydoc", "timeit", "profile", "cProfile", "_lsprof",
    "webbrowser", "venv", "ensurepip", "uuid", "urllib", "requests", "httplib", "http", "ssl",
    "_ssl", "ftplib", "smtplib", "telnetlib", "imaplib", "poplib", "nntplib", "xmlrpc",
    "socketserver", "test", "commands", "_osx_support", "_aix_support", "_pyrepl", "distutils",
    "setuptools", "importlib", "imp", "zipimport", "pkgutil", "code", "codeop", "multiprocessing",
    "concurrent", "threading", "_thread", "signal", "doctest", "idlelib", "lib2to3", "trace",
    "tempfile", "fileinput", "glob", "platform", "sysconfig", "site", "builtins_exec", "dill",
    "cloudpickle", "joblib", "tkinter", "turtle", "pty", "tty", "termios", "fcntl", "resource",
    "mmap", "gc", "inspect", "types", "weakref", "atexit", "faulthandler", "tarfile", "zipfile",
    "shelve", "dbm", "sqlite3", "logging.config", "logging.handlers", "numpy.f2py",
    "numpy.testing", "numpy.distutils", "torch._dynamo", "torch._inductor", "torch.fx",
    "torch.jit", "torch.utils._config_module", "torch.utils.bottleneck", "torch.utils.collect_env",
    "torch.utils.data.datapipes", "torch.utils.cpp_extension", "torch.hub", "torch.package",
    "torch._C._jit", "torch.testing", "torch.distributed", "torch.multiprocessing",
};

// Single names that are dangerous wherever they appear as a component:
// builtins and attributes that evaluate, import, open or reach internals.
constexpr std::string_view kDangerousComponents[] = {
    "eval", "exec", "execfile", "compile", "__import__", "getattr", "setattr", "delattr",
    "open", "breakpoint", "apply", "input", "globals", "locals", "vars", "system", "popen",
    "popen2", "spawn", "spawnl", "spawnv", "spawnve", "spawnlp", "execv", "execve", "execl",
    "execlp", "execvp", "fork", "__builtins__", "__globals__", "__subclasses__", "__code__",
    "__getattribute__", "__reduce__", "__reduce_ex__", "__class__", "__bases__", "__mro__",
    "__dict__", "__init_subclass__", "load_module", "import_module", "run_path", "run_module",
    "runsource", "runcode", "interact", "loads", "load", "load_from_bytes", "_load_from_bytes",
    "load_config", "resolve_name", "locate", "getoutput", "getstatusoutput", "check_output",
    "check_call", "Popen", "runctx", "spawnv_passfds", "dictConfig", "fileConfig",
    "listen", "methodcaller", "attrgetter", "itemgetter", "partial", "partialmethod", "CodeType",
    "FunctionType", "MethodType", "LambdaType", "FileHandler", "FileIO", "urlopen",
    "get_server_certificate", "create_connection", "write_file", "compile_file",
    "execWrapper", "evaluate_guards_expression", "basichandlers", "IMAP4_stream", "CDLL",
    "PyDLL", "WinDLL", "LoadLibrary", "dlopen", "cdll",
};

// Exact names (canonical) from the scanners' lists that the module and
// component rules above do not already cover.
constexpr std::string_view kDangerousExact[] = {
    "torch.serialization.load", "torch.load", "torch.storage._load_from_bytes",
    "numpy.load", "numpy.lib.npyio.load", "builtins.memoryview",
};

constexpr std::string_view kWeightsOnlyExact[] = {
    "collections.OrderedDict", "collections.Counter", "torch.nn.parameter.Parameter",
    "torch.serialization._get_layout", "torch.Size", "torch.Tensor", "torch.device",
    "_codecs.encode", "builtins.bytearray", "builtins.set", "builtins.complex",
    "torch.storage.TypedStorage", "torch.storage.UntypedStorage",
    "torch.per_tensor_affine", "torch.per_tensor_symmetric", "torch.per_channel_affine",
    "torch.per_channel_symmetric", "torch.per_channel_affine_float_qparams",
    "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state",
    "torch._utils._rebuild_qtensor", "torch._utils._rebuild_tensor",
    "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor_v3",
    "torch._utils._rebuild_sparse_tensor", "torch._utils._rebuild_meta_tensor_no_storage",
    "torch._utils._rebuild_nested_tensor", "torch._utils._rebuild_wrapper_subclass",
    "torch._utils._rebuild_device_tensor_from_numpy",
    "torch._utils._rebuild_device_tensor_from_cpu_tensor", "torch._tensor._rebuild_from_type_v2",
};

// What the scanner also accepts: numpy array and scalar reconstruction,
// argparse namespaces (training args in many checkpoints) and builtins that
// only build plain values.
constexpr std::string_view kScanAllowedExact[] = {
    "numpy.core.multiarray._reconstruct", "numpy._core.multiarray._reconstruct",
    "numpy.core.multiarray.scalar", "numpy._core.multiarray.scalar", "numpy.dtype",
    "numpy.ndarray", "argparse.Namespace", "builtins.bool", "builtins.int", "builtins.float",
    "builtins.str", "builtins.bytes", "builtins.list", "builtins.tuple", "builtins.frozenset",
    "builtins.dict", "builtins.range", "builtins.slice", "builtins.NoneType",
};

bool HasDottedPrefix(std::string_view canonical, std::string_view prefix) {
  return canonical.size() > prefix.size() && absl::StartsWith(AbslView(canonical), AbslView(prefix)) &&
         canonical[prefix.size()] == '.';
}

}  // namespace

std::optional<TorchDType> TorchDTypeByName(std::string_view name) {
  for (const TorchDType& t : kTorchDTypes) {
    if (t.name == name) return t;
  }
  return std::nullopt;
}

std::optional<TorchDType> TorchStorageByClass(std::string_view class_name) {
  for (const StorageClass& s : kStorageClasses) {
    if (s.cls == class_name) return TorchDTypeByName(s.dtype);
  }
  return std::nullopt;
}

std::string CanonicalGlobal(std::string_view module, std::string_view name) {
  for (const auto& [from, to] : kPy2Modules) {
    if (module == from) {
      module = to;
      break;
    }
  }
  return StrCat(module, ".", name);
}

bool IsWeightsOnlyGlobal(std::string_view canonical) {
  for (std::string_view s : kWeightsOnlyExact) {
    if (s == canonical) return true;
  }
  // torch.<dtype>, torch.<X>Storage, torch[.cuda][.sparse].<X>Tensor.
  std::string_view rest;
  if (HasDottedPrefix(canonical, "torch")) rest = canonical.substr(6);
  if (rest.empty() || rest.find('.') != std::string_view::npos) {
    for (std::string_view m : {"torch.cuda.", "torch.sparse.", "torch.cuda.sparse."}) {
      if (absl::StartsWith(AbslView(canonical), AbslView(m)) &&
          canonical.substr(m.size()).find('.') == std::string_view::npos) {
        std::string_view cls = canonical.substr(m.size());
        for (std::string_view t : kLegacyTensorClasses) {
          if (t == cls) return true;
        }
        if (m == "torch.cuda." && absl::EndsWith(AbslView(cls), "Storage") && TorchStorageByClass(cls)) {
          return true;
        }
      }
    }
    return false;
  }
  if (TorchDTypeByName(rest)) return true;
  if (absl::EndsWith(AbslView(rest), "Storage") && TorchStorageByClass(rest) && rest != "UntypedStorage") {
    return true;
  }
  for (std::string_view t : kLegacyTensorClasses) {
    if (t == rest) return true;
  }
  return false;
}

GlobalVerdict ClassifyGlobal(std::string_view module, std::string_view name) {
  GlobalVerdict v;
  v.canonical = CanonicalGlobal(module, name);
  const std::string& c = v.canonical;
  // Dangerous checks run first: an allowlisted prefix must not hide a gadget
  // reached by attribute path ("torch" + "os.system").
  for (std::string_view e : kDangerousExact) {
    if (e == c) {
      v.cls = GlobalClass::kDangerous;
      v.reason = StrCat("'", e, "' is a known gadget");
      return v;
    }
  }
  for (std::string_view m : kDangerousModules) {
    if (c == m || HasDottedPrefix(c, m)) {
      v.cls = GlobalClass::kDangerous;
      v.reason = StrCat("module '", m, "' runs code or reaches files, processes or the network");
      return v;
    }
  }
  // Components: every dotted part of module and name (the module itself may
  // be dotted, e.g. "asyncio.unix_events").
  for (absl::string_view part : absl::StrSplit(AbslView(c), '.')) {
    std::string_view p(part.data(), part.size());
    for (std::string_view d : kDangerousComponents) {
      if (d == p) {
        v.cls = GlobalClass::kDangerous;
        v.reason = StrCat("'", d, "' evaluates, imports, calls or opens");
        return v;
      }
    }
    for (std::string_view m : kDangerousModules) {
      if (m == p) {
        v.cls = GlobalClass::kDangerous;
        v.reason = StrCat("reaches module '", m, "' by attribute path");
        return v;
      }
    }
  }
  if (IsWeightsOnlyGlobal(c)) {
    v.cls = GlobalClass::kAllowed;
    return v;
  }
  for (std::string_view s : kScanAllowedExact) {
    if (s == c) {
      v.cls = GlobalClass::kAllowed;
      return v;
    }
  }
  v.cls = GlobalClass::kUnknown;
  return v;
}

}  // namespace ckpt
