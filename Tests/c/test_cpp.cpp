// test_cpp.cpp - tests of the C++ wrapper bindings/c/drsn.hpp (C++17).
//
//   test_cpp REPO_ROOT [ZOO_DIR]
//
// Fixtures come from REPO_ROOT/../shared/fixtures (or $DRSN_FIXTURES) and are skipped with
// a message if absent (a failure when DRSN_REQUIRE_FIXTURES=1, which Tests/run.sh sets when
// that folder exists). Every .onnx file in ZOO_DIR (default $DRSN_ZOO, else
// REPO_ROOT/Tests/models/zoo; written by Tests/models/export_zoo.py) runs at batch 3, 1 and 7
// against its <name>.out.npy (onnxruntime) within 1e-4.
// Prints "N passed, M failed" last; exits 1 if M > 0.
#include "drsn.hpp"

#include "npy.h"
#include "tiny_model.h"

#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <iterator>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace {

int g_passed = 0;
int g_failed = 0;

bool check(bool ok, int line, const char* expr, const std::string& msg = std::string()) {
    if (ok) {
        ++g_passed;
        return true;
    }
    ++g_failed;
    std::cerr << "FAIL test_cpp.cpp:" << line << ": " << expr;
    if (!msg.empty()) std::cerr << ": " << msg;
    std::cerr << "\n";
    return false;
}

bool check_va(int line, const char* expr, bool ok) { return check(ok, line, expr); }
bool check_va(int line, const char* expr, bool ok, const std::string& msg) { return check(ok, line, expr, msg); }
// CHECK(cond) or CHECK(cond, message)
#define CHECK(...) check_va(__LINE__, #__VA_ARGS__, __VA_ARGS__)

// Runs f and checks it throws drsn::Error with the given status and a non-empty message.
// Returns the caught error's message.
std::string expect_error(drsn_status want, const std::function<void()>& f, int line, const char* what) {
    try {
        f();
    } catch (const drsn::Error& e) {
        check(e.status() == want, line, what,
              std::string("threw ") + drsn_status_string(e.status()) + ", expected " + drsn_status_string(want) +
                  " (" + e.what() + ")");
        check(!e.message().empty(), line, what, "drsn::Error has an empty message");
        const std::string prefix = std::string(drsn_status_string(e.status())) + ": ";
        check(std::string(e.what()).rfind(prefix, 0) == 0, line, what,
              std::string("what() = \"") + e.what() + "\" does not start with the status name");
        check(std::string(e.what()).find(e.message()) != std::string::npos, line, what,
              "what() does not contain message()");
        return e.message();
    } catch (const std::exception& e) {
        check(false, line, what, std::string("threw a non-drsn exception: ") + e.what());
        return std::string();
    }
    check(false, line, what, std::string("did not throw; expected ") + drsn_status_string(want));
    return std::string();
}
#define EXPECT_ERROR(status, stmt) expect_error((status), [&]() { stmt; }, __LINE__, #stmt)

#define EXPECT_NO_THROW(stmt)                                                                 \
    do {                                                                                      \
        try {                                                                                 \
            stmt;                                                                             \
            check(true, __LINE__, #stmt);                                                     \
        } catch (const std::exception& e_) {                                                  \
            check(false, __LINE__, #stmt, std::string("threw: ") + e_.what());                \
        }                                                                                     \
    } while (0)

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
    if (a.size() != b.size()) return INFINITY;
    double m = 0.0;
    for (size_t i = 0; i < a.size(); ++i) {
        const double d = std::fabs(static_cast<double>(a[i]) - static_cast<double>(b[i]));
        if (std::isnan(d)) return INFINITY;
        m = std::max(m, d);
    }
    return m;
}

std::string shape_str(const std::vector<int64_t>& s) { return drsn::detail::shape_string(s); }

std::vector<unsigned char> tiny_bytes(const char* op = "Relu") {
    pb b = build_tiny(op, nullptr);
    std::vector<unsigned char> v(b.p, b.p + b.n);
    free(b.p);
    return v;
}

bool load_npy(const std::string& path, drsn::Tensor& t) {
    npy_array a;
    char err[512];
    if (npy_load(path.c_str(), &a, err, sizeof err) != 0) {
        check(false, __LINE__, "npy_load", err);
        return false;
    }
    t.shape.assign(a.shape, a.shape + a.rank);
    t.data.assign(a.data, a.data + a.count);
    npy_free(&a);
    return true;
}

// ---- Compile-time properties of the wrapper -------------------------------------------

static_assert(!std::is_copy_constructible<drsn::Model>::value, "Model must not be copyable");
static_assert(!std::is_copy_assignable<drsn::Model>::value, "Model must not be copy-assignable");
static_assert(std::is_nothrow_move_constructible<drsn::Model>::value, "Model must be nothrow-movable");
static_assert(std::is_nothrow_move_assignable<drsn::Model>::value, "Model must be nothrow-move-assignable");
static_assert(!std::is_copy_constructible<drsn::Options>::value, "Options must not be copyable");
static_assert(std::is_nothrow_move_constructible<drsn::Options>::value, "Options must be nothrow-movable");
static_assert(!std::is_copy_constructible<drsn::Stream>::value, "Stream must not be copyable");
static_assert(std::is_nothrow_move_constructible<drsn::Stream>::value, "Stream must be nothrow-movable");
static_assert(std::is_nothrow_move_assignable<drsn::Stream>::value, "Stream must be nothrow-move-assignable");
static_assert(std::is_base_of<std::runtime_error, drsn::Error>::value, "Error must be a std::runtime_error");

// ---- Tests ---------------------------------------------------------------------------------

void test_basics() {
    std::cout << "[basics]" << std::endl;
    CHECK(drsn::version() == DRSN_VERSION_STRING, drsn::version());
    CHECK(std::string(drsn::dtype_name(DRSN_DTYPE_FLOAT32)) == "float32");

    drsn::Options o;
    CHECK(o.get() != nullptr);
    CHECK(o.num_threads() == 0, std::to_string(o.num_threads()));
    o.num_threads(2);
    CHECK(o.num_threads() == 2);
    std::string msg = EXPECT_ERROR(DRSN_ERR_INVALID_ARGUMENT, o.num_threads(-1));
    std::cout << "  num_threads(-1): " << msg << std::endl;
    EXPECT_ERROR(DRSN_ERR_INVALID_ARGUMENT, o.num_threads(257));
    CHECK(o.num_threads() == 2, "a rejected value changed the options");
    drsn::Options o2(std::move(o));
    CHECK(o.get() == nullptr, "moved-from Options still holds a handle");
    CHECK(o2.get() != nullptr && o2.num_threads() == 2);
    drsn::Options o3;
    o3 = std::move(o2);
    CHECK(o2.get() == nullptr && o3.num_threads() == 2);
    EXPECT_ERROR(DRSN_ERR_INVALID_ARGUMENT, (void)o2.num_threads());  // moved-from: the C API sees NULL

    // Load errors carry status and message.
    const std::string missing = "/nonexistent-drsn-dir/model.onnx";
    msg = EXPECT_ERROR(DRSN_ERR_IO, drsn::Model m(missing));
    CHECK(msg.find(missing) != std::string::npos, "IO message \"" + msg + "\" lacks the path");
    const std::string garbage = "definitely not an onnx model \xff\xff\xff\xff";
    EXPECT_ERROR(DRSN_ERR_INVALID_MODEL, drsn::Model::from_memory(garbage.data(), garbage.size()));
    EXPECT_ERROR(DRSN_ERR_INVALID_ARGUMENT, drsn::Model::from_memory(nullptr, 10));

    // An empty model refuses politely.
    drsn::Model empty;
    CHECK(!empty);
    EXPECT_ERROR(DRSN_ERR_INVALID_ARGUMENT, (void)empty.inputs());
    EXPECT_ERROR(DRSN_ERR_INVALID_ARGUMENT, (void)empty.output_shape_for({{1, 4}}));
    EXPECT_ERROR(DRSN_ERR_INVALID_ARGUMENT, (void)empty.run(std::vector<drsn::Tensor>{}));
}

void test_tiny() {
    std::cout << "[tiny model]" << std::endl;
    const std::vector<unsigned char> bytes = tiny_bytes();
    drsn::Model m;
    EXPECT_NO_THROW(m = drsn::Model::from_memory(bytes));
    if (!CHECK(static_cast<bool>(m))) return;

    const auto ins = m.inputs();
    const auto outs = m.outputs();
    CHECK(ins.size() == 1 && ins[0].name == "x" && ins[0].dtype == DRSN_DTYPE_FLOAT32 &&
              ins[0].shape == std::vector<int64_t>({-1, 4}),
          ins.empty() ? "no inputs" : ins[0].name + " " + shape_str(ins[0].shape));
    CHECK(outs.size() == 1 && outs[0].name == "y" && outs[0].dtype == DRSN_DTYPE_FLOAT32 &&
              outs[0].shape == std::vector<int64_t>({-1, 4}),
          outs.empty() ? "no outputs" : outs[0].name + " " + shape_str(outs[0].shape));
    CHECK(m.output_shape_for({{3, 4}}) == std::vector<int64_t>({3, 4}));

    drsn::Tensor x{{3, 4}, {-1.f, 0.5f, 2.f, -3.f, 4.f, -0.5f, 1.25f, 7.f, -8.f, -9.f, 10.f, 0.125f}};
    std::vector<float> want(12);
    tiny_expected(x.data.data(), 3, want.data());
    std::vector<drsn::Tensor> y;
    EXPECT_NO_THROW(y = m.run({x}));
    CHECK(y.size() == 1 && y[0].shape == std::vector<int64_t>({3, 4}) && y[0].data == want);

    std::vector<float> buf(12, -1.f);
    EXPECT_NO_THROW(m.run_into({x}, {drsn::OutputBuffer{buf.data(), buf.size()}}));
    CHECK(buf == want);
    std::vector<drsn::Tensor> reuse(1);
    EXPECT_NO_THROW(m.run_into({x}, reuse));
    CHECK(reuse.size() == 1 && reuse[0].data == want && reuse[0].shape == std::vector<int64_t>({3, 4}));
    std::vector<drsn::Tensor> yv;
    EXPECT_NO_THROW(yv = m.run({drsn::TensorView(x.data.data(), x.shape)}));
    CHECK(yv.size() == 1 && yv[0].data == want);

    // Errors
    std::string msg = EXPECT_ERROR(DRSN_ERR_SHAPE_MISMATCH, (void)m.run({drsn::Tensor{{2, 5}, std::vector<float>(10)}}));
    std::cout << "  [2,5] -> " << msg << std::endl;
    EXPECT_ERROR(DRSN_ERR_SHAPE_MISMATCH, (void)m.run({drsn::Tensor{{12}, std::vector<float>(12)}}));
    EXPECT_ERROR(DRSN_ERR_SHAPE_MISMATCH, (void)m.output_shape_for({{2, 2, 2}}));
    EXPECT_ERROR(DRSN_ERR_BUFFER_TOO_SMALL, m.run_into({x}, {drsn::OutputBuffer{buf.data(), 11}}));
    msg = EXPECT_ERROR(DRSN_ERR_INVALID_ARGUMENT, (void)m.run({drsn::Tensor{{3, 4}, std::vector<float>(11)}}));
    std::cout << "  short input -> " << msg << std::endl;
    EXPECT_ERROR(DRSN_ERR_INVALID_ARGUMENT,
                 m.run_into({drsn::Tensor{{3, 4}, std::vector<float>(13)}}, {drsn::OutputBuffer{buf.data(), buf.size()}}));
    {
        std::vector<drsn::Tensor> outs_reuse;
        EXPECT_ERROR(DRSN_ERR_INVALID_ARGUMENT, m.run_into({drsn::Tensor{{3, 4}, std::vector<float>(11)}}, outs_reuse));
    }
    EXPECT_ERROR(DRSN_ERR_INVALID_ARGUMENT, (void)m.run({drsn::Tensor{{-3, 4}, std::vector<float>(12)}}));
    EXPECT_ERROR(DRSN_ERR_INVALID_ARGUMENT, (void)m.run({x, x}));
    EXPECT_ERROR(DRSN_ERR_INVALID_ARGUMENT, (void)m.run(std::vector<drsn::Tensor>{}));
    EXPECT_ERROR(DRSN_ERR_INVALID_ARGUMENT, (void)m.output_shape_for({{3, 4}}, 1));

    // Move semantics
    drsn::Model moved(std::move(m));
    CHECK(!m && static_cast<bool>(moved), "move construction did not transfer ownership");
    EXPECT_ERROR(DRSN_ERR_INVALID_ARGUMENT, (void)m.inputs());
    drsn::Model target = drsn::Model::from_memory(bytes);
    target = std::move(moved);  // releases target's first model
    CHECK(!moved && static_cast<bool>(target));
    EXPECT_NO_THROW(y = target.run({x}));
    CHECK(y.size() == 1 && y[0].data == want);
    drsn_model* raw = target.release();
    CHECK(raw != nullptr && !target);
    drsn::Model adopted(raw);
    CHECK(adopted.get() == raw);

    // Many loads and destructions (RAII; run under a leak checker to see more)
    for (int i = 0; i < 50; ++i) {
        drsn::Options opts;
        opts.num_threads(1 + i % 3);
        drsn::Model mm = drsn::Model::from_memory(bytes, opts);
        if (i % 10 == 0) (void)mm.run({x});
    }
    CHECK(true);

    // Unsupported operator
    const std::vector<unsigned char> unk = tiny_bytes("Hardmax");
    msg = EXPECT_ERROR(DRSN_ERR_UNSUPPORTED, drsn::Model::from_memory(unk));
    std::cout << "  Hardmax -> " << msg << std::endl;
}

// The library-level functions and Options::limit (drsn_version_number, drsn_abi_version, drsn_isa,
// drsn_status_string, drsn_last_error, drsn_options_set_limit / get_limit).
void test_library_and_limits() {
    std::cout << "[library functions, limits]" << std::endl;
    CHECK(drsn::version_number() == static_cast<uint32_t>(DRSN_VERSION_NUMBER), std::to_string(drsn::version_number()));
    CHECK(drsn::abi_version() == static_cast<uint32_t>(DRSN_ABI_VERSION), std::to_string(drsn::abi_version()));
    const std::string isa = drsn::isa();
    CHECK(isa == "avx512" || isa == "avx2" || isa == "baseline", isa);
    std::cout << "  version " << drsn::version() << " (" << drsn::version_number() << "), ABI " << drsn::abi_version()
              << ", ISA " << isa << std::endl;
    CHECK(std::string(drsn::status_string(DRSN_ERR_IO)) == "DRSN_ERR_IO");
    CHECK(drsn::status_string(DRSN_OK) == drsn_status_string(DRSN_OK), "not the library's static string");
    CHECK(std::string(drsn::status_string(static_cast<drsn_status>(42))) == "DRSN_ERR_UNKNOWN");

    // last_error(): the message of the last failure on this thread, as drsn::Error carried it.
    drsn::Options o;
    const std::string msg = EXPECT_ERROR(DRSN_ERR_INVALID_ARGUMENT, o.num_threads(-1));
    CHECK(drsn::last_error() == msg, "last_error() \"" + drsn::last_error() + "\" vs Error::message() \"" + msg + "\"");
    (void)drsn::status_string(DRSN_ERR_INTERNAL);
    CHECK(drsn::last_error() == msg, "status_string changed last_error()");

    // Limits: defaults as drsn.h documents them, set / get, chaining, rejected values.
    CHECK(o.limit(DRSN_LIMIT_MAX_FILE_BYTES) == (int64_t{2} << 30), std::to_string(o.limit(DRSN_LIMIT_MAX_FILE_BYTES)));
    CHECK(o.limit(DRSN_LIMIT_MAX_TENSOR_ELEMENTS) == (int64_t{1} << 28));
    CHECK(o.limit(DRSN_LIMIT_MAX_TOTAL_TENSOR_BYTES) == (int64_t{4} << 30));
    CHECK(o.limit(DRSN_LIMIT_MAX_NODES) == 100000, std::to_string(o.limit(DRSN_LIMIT_MAX_NODES)));
    CHECK(o.limit(DRSN_LIMIT_MAX_RANK) == 8, std::to_string(o.limit(DRSN_LIMIT_MAX_RANK)));
    CHECK(o.limit(DRSN_LIMIT_MAX_VALUE_ELEMENTS) == (int64_t{1} << 27));
    CHECK(o.limit(DRSN_LIMIT_MAX_ARENA_BYTES) == (int64_t{4} << 30));
    drsn::Options& same = o.limit(DRSN_LIMIT_MAX_NODES, 500).limit(DRSN_LIMIT_MAX_RANK, 6);
    CHECK(&same == &o, "limit(which, value) does not return *this");
    CHECK(o.limit(DRSN_LIMIT_MAX_NODES) == 500 && o.limit(DRSN_LIMIT_MAX_RANK) == 6);
    EXPECT_ERROR(DRSN_ERR_INVALID_ARGUMENT, o.limit(DRSN_LIMIT_MAX_NODES, 0));
    EXPECT_ERROR(DRSN_ERR_INVALID_ARGUMENT, o.limit(DRSN_LIMIT_MAX_NODES, -5));
    CHECK(o.limit(DRSN_LIMIT_MAX_NODES) == 500, "a rejected value changed the limit");
    EXPECT_ERROR(DRSN_ERR_INVALID_ARGUMENT, o.limit(static_cast<drsn_limit>(0), 1));
    EXPECT_ERROR(DRSN_ERR_INVALID_ARGUMENT, (void)o.limit(static_cast<drsn_limit>(0)));  // unknown (C tests: past the last)
    drsn::Options moved_to(std::move(o));
    CHECK(moved_to.limit(DRSN_LIMIT_MAX_NODES) == 500, "the limit did not move with the options");
    EXPECT_ERROR(DRSN_ERR_INVALID_ARGUMENT, (void)o.limit(DRSN_LIMIT_MAX_NODES));  // moved-from: NULL handle

    // The limits reach the load.
    const std::vector<unsigned char> bytes = tiny_bytes();
    drsn::Options small;
    small.limit(DRSN_LIMIT_MAX_FILE_BYTES, 16);
    const std::string lmsg = EXPECT_ERROR(DRSN_ERR_LIMIT_EXCEEDED, drsn::Model::from_memory(bytes, small));
    std::cout << "  MAX_FILE_BYTES 16 -> " << lmsg << std::endl;
    drsn::Options enough;
    enough.limit(DRSN_LIMIT_MAX_FILE_BYTES, static_cast<int64_t>(bytes.size())).num_threads(1);
    EXPECT_NO_THROW(drsn::Model::from_memory(bytes, enough));
}

// Sliding windows, introspection and the summary through the wrapper (tiny model: x [N,4]).
void test_windows_and_introspection() {
    std::cout << "[windows, introspection, summary]" << std::endl;
    const std::vector<unsigned char> bytes = tiny_bytes();
    drsn::Model m = drsn::Model::from_memory(bytes);
    CHECK(drsn::window_count(10, 4, 2) == 4 && drsn::window_count(3, 4, 1) == 0);
    EXPECT_ERROR(DRSN_ERR_INVALID_ARGUMENT, (void)drsn::window_count(10, 4, 0));

    // 10 samples, windows of 4 every 2 -> 4 windows, as cut (no normalisation) ...
    const std::vector<float> signal = {-1.f, 2.f, 3.f, -4.f, 5.f, 6.f, -7.f, 8.f, 9.f, -10.f};
    std::vector<drsn::Tensor> w;
    EXPECT_NO_THROW(w = m.run_windows(signal, 1, 4, 2, DRSN_NORMALIZE_NONE, 0.0f, 3));
    std::vector<float> want(16);
    std::vector<float> cut(16);
    for (size_t k = 0; k < 4; ++k)
        for (size_t i = 0; i < 4; ++i) cut[k * 4 + i] = signal[k * 2 + i];
    tiny_expected(cut.data(), 4, want.data());
    CHECK(w.size() == 1 && w[0].shape == std::vector<int64_t>({4, 4}) && w[0].data == want,
          w.empty() ? "no output" : shape_str(w[0].shape));
    // ... and z-scored per window (population std), compared with the same windows run as a batch
    for (size_t k = 0; k < 4; ++k) {
        double mean = 0.0, var = 0.0;
        for (size_t i = 0; i < 4; ++i) mean += cut[k * 4 + i] / 4.0;
        for (size_t i = 0; i < 4; ++i) var += (cut[k * 4 + i] - mean) * (cut[k * 4 + i] - mean) / 4.0;
        for (size_t i = 0; i < 4; ++i)
            cut[k * 4 + i] = static_cast<float>((cut[k * 4 + i] - mean) / (std::sqrt(var) + 1e-8));
    }
    const std::vector<drsn::Tensor> batch = m.run({drsn::Tensor{{4, 4}, cut}});
    EXPECT_NO_THROW(w = m.run_windows(signal.data(), 1, signal.size(), 4, 2));
    CHECK(w.size() == 1 && max_abs_diff(w[0].data, batch[0].data) <= 1e-5);
    EXPECT_ERROR(DRSN_ERR_SHAPE_MISMATCH, (void)m.run_windows(signal.data(), 1, 3, 4, 2));     // shorter than a window
    EXPECT_ERROR(DRSN_ERR_SHAPE_MISMATCH, (void)m.run_windows(signal, 2, 4, 2));              // [N,4] takes one channel
    EXPECT_ERROR(DRSN_ERR_INVALID_ARGUMENT, (void)m.run_windows(signal, 3, 4, 2));            // 10 % 3 != 0
    EXPECT_ERROR(DRSN_ERR_SHAPE_MISMATCH, (void)m.run_windows(signal, 1, 5, 2));              // the input takes 4

    // No shrinkage units in the tiny model; introspection still runs it.
    CHECK(m.shrinkage_units({{3, 4}}).empty());
    drsn::Introspection r;
    drsn::Tensor x{{2, 4}, {1.f, -2.f, 3.f, -4.f, -5.f, 6.f, -7.f, 8.f}};
    EXPECT_NO_THROW(r = m.run_introspect({x}));
    std::vector<float> want2(8);
    tiny_expected(x.data.data(), 2, want2.data());
    CHECK(r.outputs.size() == 1 && r.outputs[0].data == want2 && r.thresholds.empty() && r.zero_fractions.empty());

    const std::string json = m.summary_json();
    CHECK(json.find("\"operators\"") != std::string::npos && json.find("\"Relu\"") != std::string::npos, json);
    drsn::Model empty;
    EXPECT_ERROR(DRSN_ERR_INVALID_ARGUMENT, (void)empty.summary_json());
    EXPECT_ERROR(DRSN_ERR_INVALID_ARGUMENT, (void)empty.shrinkage_units({{1, 4}}));
}

// The bearing example's DRSN-CW (9 channel-wise units) on its long IR007 excerpt, when present.
void test_bearing(const std::string& root) {
    std::cout << "[bearing model]" << std::endl;
    const std::string dir = root + "/examples/bearing";
    struct stat st;
    if (stat((dir + "/model/drsn_cwru.onnx").c_str(), &st) != 0) {
        std::cout << "  SKIPPED: " << dir << " is absent" << std::endl;
        return;
    }
    try {
        drsn::Model m(dir + "/model/drsn_cwru.onnx");
        drsn::Tensor tail;
        if (!load_npy(dir + "/data/IR007_1_tail.npy", tail) || !CHECK(tail.shape.size() == 1)) return;
        const std::vector<drsn::Tensor> y = m.run_windows(tail.data, 1, 2048, 1024);
        const size_t n = drsn::window_count(tail.data.size(), 2048, 1024);
        if (!CHECK(y.size() == 1 && y[0].shape == std::vector<int64_t>({static_cast<int64_t>(n), 10}))) return;
        size_t ir007 = 0;
        for (size_t k = 0; k < n; ++k) {
            const float* row = y[0].data.data() + k * 10;
            ir007 += static_cast<size_t>(std::max_element(row, row + 10) - row) == 4;
        }
        std::cout << "  " << ir007 << "/" << n << " windows classified IR007" << std::endl;
        CHECK(ir007 * 10 >= n * 9, std::to_string(ir007) + "/" + std::to_string(n));

        const std::vector<drsn::ShrinkageUnit> units = m.shrinkage_units({{2, 1, 2048}});
        CHECK(units.size() == 9 && units[0].thresholds_per_sample == 4 && units[8].thresholds_per_sample == 16 &&
                  units[8].features_per_sample == 4096,
              std::to_string(units.size()) + " units");
        drsn::Tensor x{{2, 1, 2048}, std::vector<float>(tail.data.begin(), tail.data.begin() + 4096)};
        const drsn::Introspection r = m.run_introspect({x});
        CHECK(r.thresholds.size() == 9 && r.zero_fractions.size() == 9);
        if (r.thresholds.size() == 9) {
            CHECK(r.thresholds[8].shape == std::vector<int64_t>({2, 16}) && r.zero_fractions[8].shape == std::vector<int64_t>({2}));
            bool in_range = true;
            for (const auto& z : r.zero_fractions)
                for (float v : z.data) in_range = in_range && v >= 0.0f && v <= 1.0f;
            CHECK(in_range, "a zeroed fraction outside [0, 1]");
        }
        CHECK(r.outputs.size() == 1 && r.outputs[0].data == m.run({x})[0].data, "introspection changed the logits");
        CHECK(m.summary_json().find("\"shrinkage_units\"") != std::string::npos);
    } catch (const std::exception& e) {
        check(false, __LINE__, "bearing", std::string("unexpected exception: ") + e.what());
    }
}

// drsn::Stream on the bearing model: chunks of many sizes give run_windows' bits.
void test_stream(const std::string& root) {
    std::cout << "[stream]" << std::endl;
    const std::string dir = root + "/examples/bearing";
    struct stat st;
    if (stat((dir + "/model/drsn_cwru.onnx").c_str(), &st) != 0) {
        std::cout << "  SKIPPED: " << dir << " is absent" << std::endl;
        return;
    }
    try {
        drsn::Tensor tail;
        if (!load_npy(dir + "/data/IR007_1_tail.npy", tail)) return;
        const std::vector<float> signal(tail.data.begin(), tail.data.begin() + 20000);
        drsn::Stream stream;
        std::vector<drsn::Tensor> expected;
        {
            drsn::Model m(dir + "/model/drsn_cwru.onnx");
            expected = m.run_windows(signal, 1, 2048, 512);
            stream = drsn::Stream(m, 1, 2048, 512);  // outlives the Model object
        }
        CHECK(stream.channels() == 1 && stream.window() == 2048);
        std::vector<int64_t> starts;
        std::vector<float> logits;
        size_t pos = 0, k = 0;
        const size_t sizes[] = {1, 2047, 0, 700, 5000, 13, 511, 512, 3000};
        while (pos < signal.size()) {
            const size_t n = std::min(sizes[k++ % 9], signal.size() - pos);
            const std::vector<float> chunk(signal.begin() + static_cast<std::ptrdiff_t>(pos),
                                           signal.begin() + static_cast<std::ptrdiff_t>(pos + n));
            const drsn::StreamWindows w = k % 2 ? stream.push(chunk) : stream.push(chunk.data(), n, DRSN_LAYOUT_PLANAR);
            CHECK(w.outputs.size() == 1 && w.outputs[0].shape == std::vector<int64_t>({static_cast<int64_t>(w.size()), 10}));
            starts.insert(starts.end(), w.starts.begin(), w.starts.end());
            logits.insert(logits.end(), w.outputs[0].data.begin(), w.outputs[0].data.end());
            pos += n;
        }
        CHECK(stream.flush().size() == 0);
        const size_t n = expected[0].data.size() / 10;
        bool starts_ok = starts.size() == n;
        for (size_t i = 0; starts_ok && i < n; ++i) starts_ok = starts[i] == static_cast<int64_t>(i * 512);
        CHECK(starts_ok, std::to_string(starts.size()) + " windows, run_windows " + std::to_string(n));
        CHECK(logits == expected[0].data, "the stream's outputs differ from run_windows");
        stream.reset();
        CHECK(stream.push(signal.data(), 2048).starts == std::vector<int64_t>({0}));
        EXPECT_ERROR(DRSN_ERR_SHAPE_MISMATCH, (void)drsn::Stream(drsn::Model(dir + "/model/drsn_cwru.onnx"), 2, 2048, 512));

        drsn::Model m(dir + "/model/drsn_cwru.onnx");
        drsn::Stream wide(m, 1, 2048, 2048, DRSN_NORMALIZE_ZSCORE, DRSN_ZSCORE_EPSILON_DEFAULT, 0, 1, true);
        drsn::StreamWindows first = wide.push(signal.data(), 2048 * 2);  // two windows: one waits, then both run
        CHECK(first.size() == 2 && first.thresholds.size() == 9 && first.zero_fractions.size() == 9);
        if (first.thresholds.size() == 9) {
            CHECK(first.thresholds[8].shape == std::vector<int64_t>({2, 16}) &&
                  first.zero_fractions[8].shape == std::vector<int64_t>({2}));
            const std::vector<drsn::Tensor> y = m.run_windows(signal.data(), 1, 4096, 2048, 2048);
            CHECK(first.outputs[0].data == y[0].data);
        }
        CHECK(wide.push(signal.data() + 4096, 2048).size() == 0);  // max_waiting 1: it waits
        CHECK(wide.flush().starts == std::vector<int64_t>({4096}));
        drsn::Stream moved = std::move(wide);
        EXPECT_ERROR(DRSN_ERR_INVALID_ARGUMENT, (void)wide.flush());
        CHECK(moved.push(std::vector<float>()).size() == 0);                // zero frames
        CHECK(moved.push(std::vector<float>(2048, 1.0f)).size() == 0);      // waits (max_waiting 1)
        CHECK(moved.flush().starts == std::vector<int64_t>({6144}));
        drsn::Stream empty;
        EXPECT_ERROR(DRSN_ERR_INVALID_ARGUMENT, (void)empty.push(signal));
    } catch (const std::exception& e) {
        check(false, __LINE__, "stream", std::string("unexpected exception: ") + e.what());
    }
}

void test_fixture(const std::string& dir, const std::string& name) {
    std::cout << "[fixture " << name << "]" << std::endl;
    drsn::Tensor in, want;
    if (!load_npy(dir + "/" + name + ".in.npy", in) || !load_npy(dir + "/" + name + ".out.npy", want)) return;
    const std::string path = dir + "/" + name + ".onnx";
    try {
        drsn::Model mf(path);
        std::ifstream f(path, std::ios::binary);
        std::vector<char> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
        drsn::Options one;
        one.num_threads(1);
        drsn::Model mm = drsn::Model::from_memory(bytes, one);
        bytes.assign(bytes.size(), 0);

        const auto ins = mf.inputs();
        const auto outs = mf.outputs();
        CHECK(ins.size() == 1 && outs.size() == 1);
        if (ins.size() != 1 || outs.size() != 1) return;
        std::vector<int64_t> expect_in = in.shape;
        expect_in[0] = -1;
        CHECK(ins[0].shape == expect_in, shape_str(ins[0].shape));
        CHECK(ins[0].dtype == DRSN_DTYPE_FLOAT32 && outs[0].dtype == DRSN_DTYPE_FLOAT32);
        std::vector<int64_t> expect_out = want.shape;
        expect_out[0] = -1;
        CHECK(outs[0].shape == expect_out, shape_str(outs[0].shape));
        CHECK(mf.output_shape_for({in.shape}) == want.shape, shape_str(mf.output_shape_for({in.shape})));
        CHECK(mm.inputs()[0].name == ins[0].name);
        std::cout << "  " << ins[0].name << " " << shape_str(ins[0].shape) << " -> " << outs[0].name << " "
                  << shape_str(outs[0].shape) << std::endl;

        const std::vector<drsn::Tensor> y = mf.run({in});
        if (!CHECK(y.size() == 1 && y[0].shape == want.shape)) return;
        const double dev = max_abs_diff(y[0].data, want.data);
        std::cout << "  run: max |deviation| from onnxruntime = " << dev << std::endl;
        CHECK(dev <= 1e-4, std::to_string(dev));

        std::vector<float> buf(want.data.size() + 7, NAN);
        mf.run_into({in}, {drsn::OutputBuffer{buf.data(), buf.size()}});
        buf.resize(want.data.size());
        CHECK(buf == y[0].data, "run_into differs from run: " + std::to_string(max_abs_diff(buf, y[0].data)));
        std::vector<drsn::Tensor> reuse;
        mf.run_into({in}, reuse);
        CHECK(reuse.size() == 1 && reuse[0].data == y[0].data && reuse[0].shape == want.shape);

        const std::vector<drsn::Tensor> ym = mm.run({in});
        const double devm = ym.size() == 1 ? max_abs_diff(ym[0].data, want.data) : INFINITY;
        std::cout << "  run (memory, 1 thread): max |deviation| = " << devm << std::endl;
        CHECK(devm <= 1e-4, std::to_string(devm));

        // Exceptions from a real model
        std::vector<int64_t> bad = in.shape;
        bad[1] += 1;
        std::string msg =
            EXPECT_ERROR(DRSN_ERR_SHAPE_MISMATCH, (void)mf.run({drsn::Tensor{bad, std::vector<float>(in.data.size() / in.shape[1] * bad[1])}}));
        std::cout << "  channels+1 -> " << msg << std::endl;
        EXPECT_ERROR(DRSN_ERR_BUFFER_TOO_SMALL, mf.run_into({in}, {drsn::OutputBuffer{buf.data(), buf.size() - 1}}));

        // A few concurrent runs through the wrapper
        std::atomic<int> bad_runs{0};
        std::vector<std::thread> threads;
        for (int t = 0; t < 4; ++t)
            threads.emplace_back([&]() {
                for (int i = 0; i < 10; ++i) {
                    try {
                        if (mf.run({in})[0].data != y[0].data) ++bad_runs;
                    } catch (...) {
                        ++bad_runs;
                    }
                }
            });
        for (auto& t : threads) t.join();
        CHECK(bad_runs == 0, std::to_string(bad_runs.load()) + " of 40 concurrent wrapper runs failed or differed");

        // Moving a loaded model keeps it usable
        drsn::Model moved = std::move(mf);
        CHECK(!mf && moved.run({in})[0].data == y[0].data);
    } catch (const std::exception& e) {
        check(false, __LINE__, name.c_str(), std::string("unexpected exception: ") + e.what());
    }
}

// One zoo model (Tests/models/zoo, see Tests/models/export_zoo.py) through the wrapper: batch 3
// (the stored input), each row at batch 1 and 7 rows taken cyclically, against <name>.out.npy
// (onnxruntime) within 1e-4. Returns the largest deviation (infinity on an exception).
double test_zoo_model(const std::string& dir, const std::string& name) {
    drsn::Tensor in, want;
    if (!load_npy(dir + "/" + name + ".in.npy", in) || !load_npy(dir + "/" + name + ".out.npy", want)) return INFINITY;
    if (!CHECK(in.shape.size() >= 2 && !want.shape.empty() && in.shape[0] > 0 && want.shape[0] == in.shape[0], name))
        return INFINITY;
    const size_t b = static_cast<size_t>(in.shape[0]);
    const size_t row_in = in.data.size() / b, row_out = want.data.size() / b;
    // n rows taken cyclically from the b rows of t
    auto rows = [b](const drsn::Tensor& t, size_t row, size_t n) {
        drsn::Tensor r;
        r.shape = t.shape;
        r.shape[0] = static_cast<int64_t>(n);
        for (size_t i = 0; i < n; ++i)
            r.data.insert(r.data.end(), t.data.begin() + static_cast<std::ptrdiff_t>((i % b) * row),
                          t.data.begin() + static_cast<std::ptrdiff_t>((i % b + 1) * row));
        return r;
    };
    double worst = 0.0;
    try {
        drsn::Model m(dir + "/" + name + ".onnx");
        std::vector<int64_t> expect_in = in.shape;
        expect_in[0] = -1;
        CHECK(m.inputs().size() == 1 && m.inputs()[0].shape == expect_in, name + ": input shape");
        // batch 3
        std::vector<drsn::Tensor> y = m.run({in});
        if (CHECK(y.size() == 1 && y[0].shape == want.shape, name + ": output shape")) {
            const double d = max_abs_diff(y[0].data, want.data);
            CHECK(d <= 1e-4, name + " batch 3: max deviation " + std::to_string(d));
            worst = std::max(worst, d);
        }
        // batch 1, every row
        for (size_t r = 0; r < b; ++r) {
            drsn::Tensor x1{in.shape, std::vector<float>(in.data.begin() + static_cast<std::ptrdiff_t>(r * row_in),
                                                         in.data.begin() + static_cast<std::ptrdiff_t>((r + 1) * row_in))};
            x1.shape[0] = 1;
            const std::vector<float> w1(want.data.begin() + static_cast<std::ptrdiff_t>(r * row_out),
                                        want.data.begin() + static_cast<std::ptrdiff_t>((r + 1) * row_out));
            y = m.run({x1});
            const double d = y.size() == 1 ? max_abs_diff(y[0].data, w1) : INFINITY;
            CHECK(d <= 1e-4, name + " batch 1 row " + std::to_string(r) + ": max deviation " + std::to_string(d));
            worst = std::max(worst, d);
        }
        // batch 7, through run_into
        const drsn::Tensor x7 = rows(in, row_in, 7), w7 = rows(want, row_out, 7);
        std::vector<drsn::Tensor> y7;
        m.run_into({x7}, y7);
        if (CHECK(y7.size() == 1 && y7[0].shape == w7.shape, name + ": batch-7 output shape")) {
            const double d = max_abs_diff(y7[0].data, w7.data);
            CHECK(d <= 1e-4, name + " batch 7: max deviation " + std::to_string(d));
            worst = std::max(worst, d);
        }
        const size_t units = m.shrinkage_units({in.shape}).size();
        std::cout << "  " << name << ": max |deviation| from onnxruntime (batch 3/1/7) = " << worst << "; " << units
                  << " shrinkage units fused" << std::endl;
    } catch (const std::exception& e) {
        check(false, __LINE__, name.c_str(), std::string("unexpected exception: ") + e.what());
        std::cout << "  " << name << ": FAILED: " << e.what() << std::endl;
        return INFINITY;
    }
    return worst;
}

// Every .onnx file in dir, sorted by name.
void test_zoo(const std::string& dir) {
    std::cout << "[zoo " << dir << "]" << std::endl;
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec)) {
        std::cout << "  SKIPPED: " << dir << " is absent" << std::endl;
        return;
    }
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(dir, ec))
        if (e.path().extension() == ".onnx") names.push_back(e.path().stem().string());
    std::sort(names.begin(), names.end());
    CHECK(!names.empty(), "no .onnx files in " + dir);
    double worst = 0.0;
    for (const std::string& name : names) {
        const double d = test_zoo_model(dir, name);
        if (!(d <= worst)) worst = d;
    }
    std::cout << "  " << names.size() << " zoo models, largest deviation " << worst << std::endl;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2 && argc != 3) {
        std::cerr << "usage: " << argv[0] << " REPO_ROOT [ZOO_DIR]\n";
        return 2;
    }
    try {
        test_basics();
        test_library_and_limits();
        test_tiny();
        test_windows_and_introspection();
        test_bearing(argv[1]);
        test_stream(argv[1]);
    } catch (const std::exception& e) {
        check(false, __LINE__, "tests", std::string("unexpected exception: ") + e.what());
    }

    const char* env = std::getenv("DRSN_FIXTURES");
    const std::string dir = (env != nullptr && *env != '\0') ? std::string(env) : std::string(argv[1]) + "/../shared/fixtures";
    struct stat st;
    if (stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
        const char* required = std::getenv("DRSN_REQUIRE_FIXTURES");
        if (required != nullptr && std::string(required) == "1")
            CHECK(false, dir + " is absent, and DRSN_REQUIRE_FIXTURES=1 requires the shared fixtures");
        else
            std::cout << "[fixtures] SKIPPED: " << dir << " is absent" << std::endl;
    } else {
        for (const char* name : {"drsn_cw_1d", "drsn_cw_1d.legacy", "drsn_cw_2d", "drsn_cw_2d.legacy"})
            test_fixture(dir, name);
    }

    // The export zoo: argv[2], else $DRSN_ZOO, else REPO_ROOT/Tests/models/zoo.
    const char* env_zoo = std::getenv("DRSN_ZOO");
    test_zoo(argc == 3                                    ? std::string(argv[2])
             : (env_zoo != nullptr && *env_zoo != '\0') ? std::string(env_zoo)
                                                          : std::string(argv[1]) + "/Tests/models/zoo");
    std::cout << g_passed << " passed, " << g_failed << " failed" << std::endl;
    return g_failed > 0 ? 1 : 0;
}
