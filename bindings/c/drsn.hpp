// drsn.hpp - header-only C++17 RAII wrapper over the drsn C ABI (drsn.h).
//
//   drsn::Model model("net.onnx");                  // or drsn::Model::from_memory(bytes)
//   for (const auto& in : model.inputs()) ...      // {name, dtype, shape (-1 = dynamic)}
//   drsn::Tensor x{{5, 1, 2048}, data};
//   std::vector<drsn::Tensor> y = model.run({x});   // owned outputs
//
// Long recordings and threshold introspection:
//   auto per_window = model.run_windows(signal.data(), 1, signal.size(), 2048, 1024);  // [windows, ...]
//   drsn::Introspection r = model.run_introspect({x});  // outputs, tau per unit, zeroed fractions
//   std::string json = model.summary_json();            // operators, FLOPs, fusions, ...
//
// Live signals (a chunk of any size in, the windows it completed out):
//   drsn::Stream stream(model, 1, 2048, 512);           // channels, window, hop
//   drsn::StreamWindows w = stream.push(chunk, frames); // w.starts[i], w.outputs[j]: [windows, ...]
//
// Load options: drsn::Options().num_threads(2).limit(DRSN_LIMIT_MAX_FILE_BYTES, 64 << 20).
// Library facts: drsn::version(), version_number(), abi_version(), isa(), status_string(s).
//
// Errors are thrown as drsn::Error (a std::runtime_error) carrying the drsn_status and
// the message from drsn_last_error(). A drsn::Model is move-only and owns its handle;
// `const` member functions (introspection, run, run_into) may be called concurrently
// from several threads, exactly as the C functions they wrap.
//
// The first Model created checks that the loaded libdrsn has the ABI this header was
// compiled against (DRSN_ABI_VERSION) and throws drsn::Error otherwise.
#ifndef DRSN_HPP
#define DRSN_HPP

#include "drsn.h"

#include <cstddef>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace drsn {

/// An error reported by libdrsn (or by this wrapper before calling it).
class Error : public std::runtime_error {
public:
    Error(drsn_status status, std::string message)
        : std::runtime_error(compose(status, message)), status_(status), message_(std::move(message)) {}

    /// The drsn_status of the failed call.
    drsn_status status() const noexcept { return status_; }
    /// The message from drsn_last_error() (without the status prefix that what() carries).
    const std::string& message() const noexcept { return message_; }

private:
    static std::string compose(drsn_status status, const std::string& message) {
        std::string s = drsn_status_string(status);
        if (!message.empty()) {
            s += ": ";
            s += message;
        }
        return s;
    }

    drsn_status status_;
    std::string message_;
};

namespace detail {

/// Throws drsn::Error for a failed status. Reads drsn_last_error() before any other drsn_* call.
inline void check(drsn_status status) {
    if (status == DRSN_OK) return;
    const char* msg = drsn_last_error();
    std::string message = msg != nullptr ? msg : "";
    throw Error(status, std::move(message));
}

[[noreturn]] inline void fail(drsn_status status, std::string message) { throw Error(status, std::move(message)); }

/// Throws if the loaded library's ABI differs from the one this header was compiled against.
inline void check_abi() {
    static const bool ok = drsn_abi_version() == static_cast<uint32_t>(DRSN_ABI_VERSION);
    if (ok) return;
    const char* loaded_version = drsn_version_string();
    fail(DRSN_ERR_UNSUPPORTED,
         "drsn ABI mismatch: this program was compiled against drsn.h " DRSN_VERSION_STRING
         " (DRSN_ABI_VERSION " + std::to_string(DRSN_ABI_VERSION) + ") but the loaded libdrsn " +
             std::string(loaded_version != nullptr ? loaded_version : "?") + " has ABI version " +
             std::to_string(drsn_abi_version()) + "; rebuild the program against the installed drsn.h");
}

inline size_t num_elements(const std::vector<int64_t>& shape) {
    size_t n = 1;
    for (int64_t d : shape) {
        if (d < 0) fail(DRSN_ERR_INVALID_ARGUMENT, "negative dimension " + std::to_string(d) + " in a concrete shape");
        const auto ud = static_cast<uint64_t>(d);
        if (ud != 0 && n > std::numeric_limits<size_t>::max() / ud)
            fail(DRSN_ERR_INVALID_ARGUMENT, "shape has too many elements");
        n *= static_cast<size_t>(ud);
    }
    return n;
}

inline std::string shape_string(const std::vector<int64_t>& shape) {
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i) {
        if (i != 0) s += ", ";
        s += std::to_string(shape[i]);
    }
    return s + "]";
}

/// Runs a C shape query (capacity protocol of drsn_model_input_shape) into a vector.
template <class Query>
std::vector<int64_t> query_shape(Query&& query) {
    std::vector<int64_t> dims(8);
    size_t rank = 0;
    drsn_status st = query(dims.data(), dims.size(), &rank);
    if (st == DRSN_ERR_BUFFER_TOO_SMALL && rank > dims.size()) {
        dims.resize(rank);
        st = query(dims.data(), dims.size(), &rank);
    }
    check(st);
    dims.resize(rank);
    return dims;
}

}  // namespace detail

/// A dense, row-major float32 tensor owned by the caller.
struct Tensor {
    std::vector<int64_t> shape;
    std::vector<float> data;

    /// Product of the dimensions (1 for a scalar).
    size_t num_elements() const { return detail::num_elements(shape); }
};

/// A non-owning view of an input: `data` holds num_elements(shape) floats.
struct TensorView {
    const float* data = nullptr;
    std::vector<int64_t> shape;

    TensorView() = default;
    TensorView(const float* data_, std::vector<int64_t> shape_) : data(data_), shape(std::move(shape_)) {}
    explicit TensorView(const Tensor& t) : data(t.data.data()), shape(t.shape) {}
};

/// A caller-provided output buffer of `capacity` floats.
struct OutputBuffer {
    float* data = nullptr;
    size_t capacity = 0;
};

/// Description of a graph input or output. shape uses -1 for a dynamic dimension.
struct TensorInfo {
    std::string name;
    drsn_dtype dtype = DRSN_DTYPE_UNDEFINED;
    std::vector<int64_t> shape;
};

/// Name of a drsn_dtype ("float32", ...).
inline const char* dtype_name(drsn_dtype t) noexcept {
    switch (t) {
        case DRSN_DTYPE_FLOAT32: return "float32";
        case DRSN_DTYPE_UINT8: return "uint8";
        case DRSN_DTYPE_INT8: return "int8";
        case DRSN_DTYPE_INT32: return "int32";
        case DRSN_DTYPE_INT64: return "int64";
        case DRSN_DTYPE_BOOL: return "bool";
        case DRSN_DTYPE_FLOAT16: return "float16";
        case DRSN_DTYPE_FLOAT64: return "float64";
        case DRSN_DTYPE_UNDEFINED: break;
    }
    return "undefined";
}

/// A residual shrinkage unit drsn recognised in a model (drsn_model_shrinkage_units).
struct ShrinkageUnit {
    /// Thresholds tau learned per sample: the channel count (channel-wise) or 1 (channel-shared).
    size_t thresholds_per_sample = 0;
    /// Features (channels x positions) the unit thresholds per sample.
    size_t features_per_sample = 0;
};

/// Result of Model::run_introspect.
struct Introspection {
    /// The model's outputs, as Model::run returns them.
    std::vector<Tensor> outputs;
    /// Per unit: [batch, thresholds_per_sample], the learned tau of every sample.
    std::vector<Tensor> thresholds;
    /// Per unit: [batch], the fraction of the unit's features set to zero (|x| <= tau).
    std::vector<Tensor> zero_fractions;
};

/// Number of full windows of `window` samples every `hop` samples in `length` samples
/// (0 if length < window); throws for window or hop 0.
inline size_t window_count(size_t length, size_t window, size_t hop) {
    size_t n = 0;
    detail::check(drsn_window_count(length, window, hop, &n));
    return n;
}

/// Version of the loaded library, e.g. "0.2.0".
inline std::string version() { return drsn_version_string(); }
/// Version number of the loaded library: MAJOR * 10000 + MINOR * 100 + PATCH (as DRSN_VERSION_NUMBER).
inline uint32_t version_number() noexcept { return drsn_version_number(); }
/// ABI version of the loaded library (a Model checks it against DRSN_ABI_VERSION when loading).
inline uint32_t abi_version() noexcept { return drsn_abi_version(); }
/// Instruction set the kernels use in this process: "avx512", "avx2" or "baseline" (drsn_isa).
inline std::string isa() { return drsn_isa(); }
/// Static name of a status, e.g. "DRSN_ERR_IO" ("DRSN_ERR_UNKNOWN" for other values). Does not
/// change drsn_last_error().
inline const char* status_string(drsn_status status) noexcept { return drsn_status_string(status); }
/// The calling thread's last error message (drsn_last_error()), for code that mixes direct C
/// calls (e.g. on Model::get()) with the wrapper; the wrapper itself throws drsn::Error instead.
inline std::string last_error() { return drsn_last_error(); }

/// Load options (move-only owner of a drsn_options).
class Options {
public:
    Options() { detail::check(drsn_options_create(&handle_)); }
    ~Options() { drsn_options_destroy(handle_); }
    Options(const Options&) = delete;
    Options& operator=(const Options&) = delete;
    Options(Options&& other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}
    Options& operator=(Options&& other) noexcept {
        if (this != &other) {
            drsn_options_destroy(handle_);
            handle_ = std::exchange(other.handle_, nullptr);
        }
        return *this;
    }

    /// Threads per run, the calling thread included: 0 = one per available CPU, 1 = the calling
    /// thread only. Range 0..256; a value above the CPU count is lowered to it at load (see
    /// drsn_options_set_num_threads and "Threads and the worker pool" in drsn.h).
    Options& num_threads(int32_t n) {
        detail::check(drsn_options_set_num_threads(handle_, n));
        return *this;
    }
    int32_t num_threads() const {
        int32_t n = 0;
        detail::check(drsn_options_get_num_threads(handle_, &n));
        return n;
    }

    /// Sets a resource limit (drsn_options_set_limit): value >= 1; an unknown limit or a value
    /// below 1 throws DRSN_ERR_INVALID_ARGUMENT and leaves the options unchanged.
    Options& limit(drsn_limit which, int64_t value) {
        detail::check(drsn_options_set_limit(handle_, which, value));
        return *this;
    }
    /// A resource limit's current value (drsn_options_get_limit).
    int64_t limit(drsn_limit which) const {
        int64_t value = 0;
        detail::check(drsn_options_get_limit(handle_, which, &value));
        return value;
    }

    const drsn_options* get() const noexcept { return handle_; }
    drsn_options* get() noexcept { return handle_; }

private:
    drsn_options* handle_ = nullptr;
};

/// A loaded model (move-only owner of a drsn_model). Immutable; const members are thread-safe.
class Model {
public:
    /// An empty model (no handle). Every query on it throws DRSN_ERR_INVALID_ARGUMENT.
    Model() noexcept = default;

    /// Loads an ONNX model file.
    explicit Model(const std::string& path) : Model(path, nullptr) {}
    Model(const std::string& path, const Options& options) : Model(path, options.get()) {}

    /// Loads an ONNX model file (same as the constructor).
    static Model from_file(const std::string& path) { return Model(path); }
    static Model from_file(const std::string& path, const Options& options) { return Model(path, options); }

    /// Loads an ONNX model from bytes in memory (copied as needed; may be freed afterwards).
    static Model from_memory(const void* data, size_t size) { return from_memory_impl(data, size, nullptr); }
    static Model from_memory(const void* data, size_t size, const Options& options) {
        return from_memory_impl(data, size, options.get());
    }
    template <class Byte>
    static Model from_memory(const std::vector<Byte>& bytes) {
        static_assert(sizeof(Byte) == 1, "from_memory expects a vector of bytes");
        return from_memory_impl(bytes.data(), bytes.size(), nullptr);
    }
    template <class Byte>
    static Model from_memory(const std::vector<Byte>& bytes, const Options& options) {
        static_assert(sizeof(Byte) == 1, "from_memory expects a vector of bytes");
        return from_memory_impl(bytes.data(), bytes.size(), options.get());
    }

    /// Takes ownership of a handle from the C API.
    explicit Model(drsn_model* handle) noexcept : handle_(handle) {}

    ~Model() { drsn_model_destroy(handle_); }
    Model(const Model&) = delete;
    Model& operator=(const Model&) = delete;
    Model(Model&& other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}
    Model& operator=(Model&& other) noexcept {
        if (this != &other) {
            drsn_model_destroy(handle_);
            handle_ = std::exchange(other.handle_, nullptr);
        }
        return *this;
    }

    const drsn_model* get() const noexcept { return handle_; }
    /// Gives up ownership; the caller must drsn_model_destroy the result.
    drsn_model* release() noexcept { return std::exchange(handle_, nullptr); }
    explicit operator bool() const noexcept { return handle_ != nullptr; }

    size_t input_count() const { return count(drsn_model_input_count(handle_)); }
    size_t output_count() const { return count(drsn_model_output_count(handle_)); }

    std::vector<TensorInfo> inputs() const {
        std::vector<TensorInfo> v;
        const size_t n = input_count();
        v.reserve(n);
        for (size_t i = 0; i < n; ++i) {
            TensorInfo info;
            const char* name = drsn_model_input_name(handle_, i);
            if (name == nullptr) detail::fail(DRSN_ERR_INTERNAL, "drsn_model_input_name returned NULL for a valid index");
            info.name = name;
            detail::check(drsn_model_input_dtype(handle_, i, &info.dtype));
            info.shape = detail::query_shape([&](int64_t* d, size_t cap, size_t* rank) {
                return drsn_model_input_shape(handle_, i, d, cap, rank);
            });
            v.push_back(std::move(info));
        }
        return v;
    }

    std::vector<TensorInfo> outputs() const {
        std::vector<TensorInfo> v;
        const size_t n = output_count();
        v.reserve(n);
        for (size_t i = 0; i < n; ++i) {
            TensorInfo info;
            const char* name = drsn_model_output_name(handle_, i);
            if (name == nullptr) detail::fail(DRSN_ERR_INTERNAL, "drsn_model_output_name returned NULL for a valid index");
            info.name = name;
            detail::check(drsn_model_output_dtype(handle_, i, &info.dtype));
            info.shape = detail::query_shape([&](int64_t* d, size_t cap, size_t* rank) {
                return drsn_model_output_shape(handle_, i, d, cap, rank);
            });
            v.push_back(std::move(info));
        }
        return v;
    }

    /// Concrete shape of output `output_index` for concrete input shapes (one per input).
    std::vector<int64_t> output_shape_for(const std::vector<std::vector<int64_t>>& input_shapes,
                                          size_t output_index = 0) const {
        std::vector<const int64_t*> dims(input_shapes.size());
        std::vector<size_t> ranks(input_shapes.size());
        for (size_t i = 0; i < input_shapes.size(); ++i) {
            dims[i] = input_shapes[i].data();
            ranks[i] = input_shapes[i].size();
        }
        return detail::query_shape([&](int64_t* d, size_t cap, size_t* rank) {
            return drsn_model_output_shape_for(handle_, input_shapes.size(), dims.data(), ranks.data(),
                                               output_index, d, cap, rank);
        });
    }

    /// Shapes of all outputs for concrete input shapes.
    std::vector<std::vector<int64_t>> output_shapes_for(const std::vector<std::vector<int64_t>>& input_shapes) const {
        std::vector<std::vector<int64_t>> out;
        const size_t n = output_count();
        out.reserve(n);
        for (size_t j = 0; j < n; ++j) out.push_back(output_shape_for(input_shapes, j));
        return out;
    }

    /// Runs the model and returns owned outputs (one per graph output).
    std::vector<Tensor> run(const std::vector<TensorView>& inputs) const {
        std::vector<std::vector<int64_t>> shapes;
        shapes.reserve(inputs.size());
        for (const auto& in : inputs) shapes.push_back(in.shape);
        std::vector<Tensor> outs(output_count());
        std::vector<OutputBuffer> bufs(outs.size());
        for (size_t j = 0; j < outs.size(); ++j) {
            outs[j].shape = output_shape_for(shapes, j);
            outs[j].data.resize(outs[j].num_elements());
            bufs[j].data = outs[j].data.data();
            bufs[j].capacity = outs[j].data.size();
        }
        run_into(inputs, bufs);
        return outs;
    }
    std::vector<Tensor> run(const std::vector<Tensor>& inputs) const { return run(views_of(inputs)); }

    /// Runs the model into caller buffers (size them with output_shape_for).
    void run_into(const std::vector<TensorView>& inputs, const std::vector<OutputBuffer>& outputs) const {
        std::vector<const float*> in_ptrs(inputs.size());
        std::vector<const int64_t*> in_dims(inputs.size());
        std::vector<size_t> in_ranks(inputs.size());
        for (size_t i = 0; i < inputs.size(); ++i) {
            // The C API cannot see buffer lengths; the wrapper checks what it can.
            (void)detail::num_elements(inputs[i].shape);
            in_ptrs[i] = inputs[i].data;
            in_dims[i] = inputs[i].shape.data();
            in_ranks[i] = inputs[i].shape.size();
        }
        std::vector<float*> out_ptrs(outputs.size());
        std::vector<size_t> out_caps(outputs.size());
        for (size_t j = 0; j < outputs.size(); ++j) {
            out_ptrs[j] = outputs[j].data;
            out_caps[j] = outputs[j].capacity;
        }
        detail::check(drsn_model_run(handle_, inputs.size(), in_ptrs.data(), in_dims.data(), in_ranks.data(),
                                     outputs.size(), out_ptrs.data(), out_caps.data()));
    }
    void run_into(const std::vector<Tensor>& inputs, const std::vector<OutputBuffer>& outputs) const {
        run_into(views_of(inputs), outputs);
    }
    /// Runs into existing Tensors, reshaping and resizing them as needed (reuses their storage).
    void run_into(const std::vector<Tensor>& inputs, std::vector<Tensor>& outputs) const {
        std::vector<std::vector<int64_t>> shapes;
        shapes.reserve(inputs.size());
        for (const auto& in : inputs) shapes.push_back(in.shape);
        outputs.resize(output_count());
        std::vector<OutputBuffer> bufs(outputs.size());
        for (size_t j = 0; j < outputs.size(); ++j) {
            outputs[j].shape = output_shape_for(shapes, j);
            outputs[j].data.resize(outputs[j].num_elements());
            bufs[j].data = outputs[j].data.data();
            bufs[j].capacity = outputs[j].data.size();
        }
        run_into(inputs, bufs);
    }

    /// The library's JSON description of the model (drsn_model_summary_json): inputs, outputs,
    /// operator counts before/after optimisation, parameters, FLOPs per sample, passes, units.
    std::string summary_json() const {
        count(0);
        const char* json = drsn_model_summary_json(handle_);
        if (json == nullptr) detail::fail(DRSN_ERR_INTERNAL, "drsn_model_summary_json returned NULL");
        return json;
    }

    /// Sliding-window inference on a long recording (drsn_model_run_windows).
    /// `signal` holds channels x length floats, channel-major. Returns one tensor per model
    /// output, shaped [window_count, per-window output shape...], in window order.
    /// normalization: DRSN_NORMALIZE_ZSCORE ((x - mean) / (std + epsilon) per window and
    /// channel) or DRSN_NORMALIZE_NONE; batch_size 0 = the library default (DRSN_WINDOW_BATCH_DEFAULT).
    std::vector<Tensor> run_windows(const float* signal, size_t channels, size_t length, size_t window,
                                    size_t hop, drsn_normalization normalization = DRSN_NORMALIZE_ZSCORE,
                                    float epsilon = DRSN_ZSCORE_EPSILON_DEFAULT, size_t batch_size = 0) const {
        const std::vector<TensorInfo> ins = inputs();
        if (ins.size() != 1)
            detail::fail(DRSN_ERR_INVALID_ARGUMENT, "run_windows needs a model with one input, this one has " +
                                                        std::to_string(ins.size()));
        if (channels < 1 || window < 1 || hop < 1)
            detail::fail(DRSN_ERR_INVALID_ARGUMENT, "run_windows: channels, window and hop must be >= 1");
        std::vector<int64_t> one;
        if (ins[0].shape.size() == 2) {
            if (channels != 1)
                detail::fail(DRSN_ERR_SHAPE_MISMATCH, "input '" + ins[0].name + "' has shape " +
                                                          detail::shape_string(ins[0].shape) + ": a signal with " +
                                                          std::to_string(channels) + " channels does not fit");
            one = {1, static_cast<int64_t>(window)};
        } else {
            one = {1, static_cast<int64_t>(channels), static_cast<int64_t>(window)};
        }
        const size_t windows = window_count(length, window, hop);
        const size_t n_out = output_count();
        std::vector<Tensor> outs(n_out);
        std::vector<float*> ptrs(n_out);
        std::vector<size_t> caps(n_out);
        float scratch = 0.0f;  // a valid pointer for empty outputs (the library then reports why)
        for (size_t j = 0; j < n_out; ++j) {
            std::vector<int64_t> shape = output_shape_for({one}, j);
            if (!shape.empty()) shape[0] = static_cast<int64_t>(windows);
            else shape = {static_cast<int64_t>(windows)};
            outs[j].shape = shape;
            outs[j].data.resize(outs[j].num_elements());
            ptrs[j] = outs[j].data.empty() ? &scratch : outs[j].data.data();
            caps[j] = outs[j].data.size();
        }
        size_t got = 0;
        detail::check(drsn_model_run_windows(handle_, signal, channels, length, window, hop, normalization, epsilon,
                                             batch_size, n_out, ptrs.data(), caps.data(), &got));
        if (got != windows)
            detail::fail(DRSN_ERR_INTERNAL, "drsn_model_run_windows reported " + std::to_string(got) +
                                                " windows, drsn_window_count " + std::to_string(windows));
        return outs;
    }
    /// run_windows on a vector of channels x length floats (its size must be a multiple of channels).
    std::vector<Tensor> run_windows(const std::vector<float>& signal, size_t channels, size_t window, size_t hop,
                                    drsn_normalization normalization = DRSN_NORMALIZE_ZSCORE,
                                    float epsilon = DRSN_ZSCORE_EPSILON_DEFAULT, size_t batch_size = 0) const {
        if (channels == 0 || signal.size() % channels != 0)
            detail::fail(DRSN_ERR_INVALID_ARGUMENT, "run_windows: " + std::to_string(signal.size()) +
                                                        " floats are not a whole number of samples of " +
                                                        std::to_string(channels) + " channels");
        return run_windows(signal.data(), channels, signal.size() / channels, window, hop, normalization, epsilon,
                           batch_size);
    }

    /// The residual shrinkage units drsn recognised for these input shapes (graph order).
    std::vector<ShrinkageUnit> shrinkage_units(const std::vector<std::vector<int64_t>>& input_shapes) const {
        count(0);
        std::vector<const int64_t*> dims(input_shapes.size());
        std::vector<size_t> ranks(input_shapes.size());
        for (size_t i = 0; i < input_shapes.size(); ++i) {
            dims[i] = input_shapes[i].data();
            ranks[i] = input_shapes[i].size();
        }
        size_t n = 0;
        drsn_status st = drsn_model_shrinkage_units(handle_, input_shapes.size(), dims.data(), ranks.data(), &n,
                                                    nullptr, nullptr, 0);
        if (st != DRSN_ERR_BUFFER_TOO_SMALL) detail::check(st);
        std::vector<size_t> t(n), f(n);
        if (n != 0)
            detail::check(drsn_model_shrinkage_units(handle_, input_shapes.size(), dims.data(), ranks.data(), &n,
                                                     t.data(), f.data(), t.size()));
        std::vector<ShrinkageUnit> units(n);
        for (size_t u = 0; u < n; ++u) units[u] = ShrinkageUnit{t[u], f[u]};
        return units;
    }

    /// Runs the model and reports every shrinkage unit's thresholds and zeroed fractions
    /// (drsn_model_run_introspect). The batch is the first dimension of the first input.
    Introspection run_introspect(const std::vector<TensorView>& inputs) const {
        std::vector<std::vector<int64_t>> shapes;
        std::vector<const float*> in_ptrs(inputs.size());
        std::vector<const int64_t*> in_dims(inputs.size());
        std::vector<size_t> in_ranks(inputs.size());
        for (size_t i = 0; i < inputs.size(); ++i) {
            (void)detail::num_elements(inputs[i].shape);
            shapes.push_back(inputs[i].shape);
            in_ptrs[i] = inputs[i].data;
            in_dims[i] = inputs[i].shape.data();
            in_ranks[i] = inputs[i].shape.size();
        }
        Introspection r;
        r.outputs.resize(output_count());
        std::vector<float*> out_ptrs(r.outputs.size());
        std::vector<size_t> out_caps(r.outputs.size());
        for (size_t j = 0; j < r.outputs.size(); ++j) {
            r.outputs[j].shape = output_shape_for(shapes, j);
            r.outputs[j].data.resize(r.outputs[j].num_elements());
            out_ptrs[j] = r.outputs[j].data.data();
            out_caps[j] = r.outputs[j].data.size();
        }
        const std::vector<ShrinkageUnit> units = shrinkage_units(shapes);
        const int64_t batch = (!shapes.empty() && !shapes[0].empty()) ? shapes[0][0] : 1;
        std::vector<float*> t_ptrs(units.size()), z_ptrs(units.size());
        std::vector<size_t> t_caps(units.size()), z_caps(units.size());
        for (size_t u = 0; u < units.size(); ++u) {
            r.thresholds.push_back(Tensor{{batch, static_cast<int64_t>(units[u].thresholds_per_sample)}, {}});
            r.zero_fractions.push_back(Tensor{{batch}, {}});
        }
        for (size_t u = 0; u < units.size(); ++u) {
            r.thresholds[u].data.resize(r.thresholds[u].num_elements());
            r.zero_fractions[u].data.resize(r.zero_fractions[u].num_elements());
            t_ptrs[u] = r.thresholds[u].data.data();
            t_caps[u] = r.thresholds[u].data.size();
            z_ptrs[u] = r.zero_fractions[u].data.data();
            z_caps[u] = r.zero_fractions[u].data.size();
        }
        detail::check(drsn_model_run_introspect(handle_, inputs.size(), in_ptrs.data(), in_dims.data(),
                                                in_ranks.data(), out_ptrs.size(), out_ptrs.data(), out_caps.data(),
                                                units.size(), t_ptrs.data(), t_caps.data(), z_ptrs.data(),
                                                z_caps.data()));
        return r;
    }
    Introspection run_introspect(const std::vector<Tensor>& inputs) const { return run_introspect(views_of(inputs)); }

private:
    /// Views of owned tensors, after checking that each holds exactly num_elements(shape) floats.
    static std::vector<TensorView> views_of(const std::vector<Tensor>& inputs) {
        std::vector<TensorView> views;
        views.reserve(inputs.size());
        for (size_t i = 0; i < inputs.size(); ++i) {
            const size_t n = inputs[i].num_elements();
            if (inputs[i].data.size() != n)
                detail::fail(DRSN_ERR_INVALID_ARGUMENT, "input " + std::to_string(i) + " has shape " +
                                                            detail::shape_string(inputs[i].shape) + " (" +
                                                            std::to_string(n) + " elements) but holds " +
                                                            std::to_string(inputs[i].data.size()) + " floats");
            views.emplace_back(inputs[i]);
        }
        return views;
    }

    Model(const std::string& path, const drsn_options* options) {
        detail::check_abi();
        detail::check(drsn_model_load_file(path.c_str(), options, &handle_));
    }

    static Model from_memory_impl(const void* data, size_t size, const drsn_options* options) {
        detail::check_abi();
        drsn_model* h = nullptr;
        detail::check(drsn_model_load_memory(data, size, options, &h));
        return Model(h);
    }

    size_t count(size_t n) const {
        if (handle_ == nullptr) detail::fail(DRSN_ERR_INVALID_ARGUMENT, "drsn::Model is empty (moved from or default-constructed)");
        return n;
    }

    drsn_model* handle_ = nullptr;
};

/// What one Stream::push or Stream::flush returned, in window order.
struct StreamWindows {
    /// The frame index at which each window starts (frames since creation or reset).
    std::vector<int64_t> starts;
    /// Per model output: [windows, per-window shape...], as Model::run_windows returns them.
    std::vector<Tensor> outputs;
    /// With introspection, per shrinkage unit: [windows, thresholds_per_sample] and [windows].
    std::vector<Tensor> thresholds;
    std::vector<Tensor> zero_fractions;

    size_t size() const noexcept { return starts.size(); }
};

/// Sliding-window inference on a live signal (drsn_stream_*): push chunks of any number of
/// frames, get back the windows they completed. The results are Model::run_windows' on the
/// whole signal, bit for bit. Move-only; one thread at a time per Stream; any number of
/// Streams may share one Model across threads. The Stream keeps the library's model alive
/// (the Model object may be destroyed first).
///
///   drsn::Stream stream(model, 1, 2048, 512);
///   drsn::StreamWindows w = stream.push(card_buffer, frames);   // interleaved by default
///   for (size_t i = 0; i < w.size(); ++i) use(w.starts[i], w.outputs[0].data.data() + i * 10);
class Stream {
public:
    /// An empty stream: every call throws DRSN_ERR_INVALID_ARGUMENT.
    Stream() noexcept = default;

    /// drsn_stream_create with the options of Model::run_windows; `max_waiting` is the latency
    /// bound (complete windows may wait, unrun, while at most that many are complete) and
    /// `introspect` adds each window's thresholds and zeroed fractions to the results.
    Stream(const Model& model, size_t channels, size_t window, size_t hop,
           drsn_normalization normalization = DRSN_NORMALIZE_ZSCORE, float epsilon = DRSN_ZSCORE_EPSILON_DEFAULT,
           size_t batch_size = 0, size_t max_waiting = 0, bool introspect = false)
        : channels_(channels), window_(window) {
        if (model.get() == nullptr) detail::fail(DRSN_ERR_INVALID_ARGUMENT, "drsn::Stream: the model is empty");
        detail::check(drsn_stream_create(model.get(), channels, window, hop, normalization, epsilon, batch_size,
                                         max_waiting, introspect ? DRSN_STREAM_INTROSPECT : 0u, &handle_));
        const size_t outputs = model.output_count();
        const std::vector<int64_t> one = model.inputs().at(0).shape.size() == 2
                                             ? std::vector<int64_t>{1, static_cast<int64_t>(window)}
                                             : std::vector<int64_t>{1, static_cast<int64_t>(channels),
                                                                    static_cast<int64_t>(window)};
        for (size_t j = 0; j < outputs; ++j) {
            std::vector<int64_t> shape = model.output_shape_for({one}, j);
            if (!shape.empty()) shape.erase(shape.begin());
            per_window_.push_back(shape);
        }
        if (introspect) units_ = model.shrinkage_units({one});
    }

    ~Stream() { drsn_stream_destroy(handle_); }
    Stream(const Stream&) = delete;
    Stream& operator=(const Stream&) = delete;
    Stream(Stream&& other) noexcept
        : handle_(std::exchange(other.handle_, nullptr)),
          channels_(other.channels_),
          window_(other.window_),
          per_window_(std::move(other.per_window_)),
          units_(std::move(other.units_)) {}
    Stream& operator=(Stream&& other) noexcept {
        if (this != &other) {
            drsn_stream_destroy(handle_);
            handle_ = std::exchange(other.handle_, nullptr);
            channels_ = other.channels_;
            window_ = other.window_;
            per_window_ = std::move(other.per_window_);
            units_ = std::move(other.units_);
        }
        return *this;
    }

    size_t channels() const noexcept { return channels_; }
    size_t window() const noexcept { return window_; }
    /// The C handle (owned by this Stream).
    drsn_stream* get() const noexcept { return handle_; }

    /// Appends `frames` frames (channels() samples each, laid out as `layout`) and returns the
    /// windows they completed (drsn_stream_push). `samples` may be nullptr when frames is 0.
    StreamWindows push(const float* samples, size_t frames, drsn_layout layout = DRSN_LAYOUT_INTERLEAVED) {
        return call(frames, [&](size_t capacity, float* const* outs, int64_t* starts, float* const* t,
                                float* const* z, size_t* got, size_t* pending) {
            return drsn_stream_push(handle_, samples, channels_, frames, layout, capacity, per_window_.size(), outs,
                                    starts, units_.size(), t, z, got, pending);
        });
    }
    /// push on a vector of frames x channels() floats (its size must be a multiple of channels()).
    StreamWindows push(const std::vector<float>& samples, drsn_layout layout = DRSN_LAYOUT_INTERLEAVED) {
        require();
        if (samples.size() % channels_ != 0)
            detail::fail(DRSN_ERR_SHAPE_MISMATCH, "drsn::Stream::push: " + std::to_string(samples.size()) +
                                                      " floats are not a whole number of frames of " +
                                                      std::to_string(channels_) + " channels");
        return push(samples.empty() ? nullptr : samples.data(), samples.size() / channels_, layout);
    }

    /// Returns the complete windows held back by max_waiting (drsn_stream_flush); the frames of
    /// an incomplete window stay.
    StreamWindows flush() {
        return call(0, [&](size_t capacity, float* const* outs, int64_t* starts, float* const* t, float* const* z,
                           size_t* got, size_t* pending) {
            return drsn_stream_flush(handle_, capacity, per_window_.size(), outs, starts, units_.size(), t, z, got,
                                     pending);
        });
    }

    /// Forgets every frame and window: the next frame pushed is frame 0 (drsn_stream_reset).
    void reset() {
        require();
        detail::check(drsn_stream_reset(handle_));
    }

private:
    void require() const {
        if (handle_ == nullptr)
            detail::fail(DRSN_ERR_INVALID_ARGUMENT, "drsn::Stream is empty (moved from or default-constructed)");
    }

    /// Sizes buffers for every window `frames` more frames can return, runs `c_call` into them.
    template <class Call>
    StreamWindows call(size_t frames, Call&& c_call) {
        require();
        size_t ready = 0;
        detail::check(drsn_stream_windows_ready(handle_, frames, &ready));
        StreamWindows w;
        w.starts.resize(ready);
        std::vector<float*> outs, t, z;
        for (const auto& shape : per_window_) {
            std::vector<int64_t> full = shape;
            full.insert(full.begin(), static_cast<int64_t>(ready));
            w.outputs.push_back(Tensor{full, std::vector<float>(detail::num_elements(full))});
        }
        for (const auto& u : units_) {
            const int64_t per = static_cast<int64_t>(u.thresholds_per_sample);
            w.thresholds.push_back(Tensor{{static_cast<int64_t>(ready), per}, std::vector<float>(ready * u.thresholds_per_sample)});
            w.zero_fractions.push_back(Tensor{{static_cast<int64_t>(ready)}, std::vector<float>(ready)});
        }
        for (auto& o : w.outputs) outs.push_back(o.data.data());
        for (auto& x : w.thresholds) t.push_back(x.data.data());
        for (auto& x : w.zero_fractions) z.push_back(x.data.data());
        size_t got = 0, pending = 0;
        detail::check(c_call(ready, outs.empty() ? nullptr : outs.data(), w.starts.empty() ? nullptr : w.starts.data(),
                             t.empty() ? nullptr : t.data(), z.empty() ? nullptr : z.data(), &got, &pending));
        if (got > ready)
            detail::fail(DRSN_ERR_INTERNAL, "drsn_stream: " + std::to_string(got) + " windows written into room for " +
                                                std::to_string(ready));
        w.starts.resize(got);
        auto shrink = [got](Tensor& x) {
            if (x.shape.empty()) return;
            const size_t per = x.shape[0] == 0 ? 0 : x.data.size() / static_cast<size_t>(x.shape[0]);
            x.shape[0] = static_cast<int64_t>(got);
            x.data.resize(got * per);
        };
        for (auto& o : w.outputs) shrink(o);
        for (auto& x : w.thresholds) shrink(x);
        for (auto& x : w.zero_fractions) shrink(x);
        return w;
    }

    drsn_stream* handle_ = nullptr;
    size_t channels_ = 0;
    size_t window_ = 0;
    std::vector<std::vector<int64_t>> per_window_;
    std::vector<ShrinkageUnit> units_;
};

}  // namespace drsn

#endif  // DRSN_HPP
